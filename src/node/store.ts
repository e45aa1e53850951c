/*
 * A volume's items, caught up with its logs: the LSM index opened at its last checkpoint, plus
 * every transaction committed since, folded in.
 *
 * Opening replays only the log tails after the manifest's checkpoint positions, so the time to
 * open depends on how much was committed since the last checkpoint, not on the size of the
 * filesystem. Live transactions (from this node's writer, or followed from other nodes' logs)
 * are folded with `apply`, in seq order. A checkpoint is taken when the memtable reaches its
 * budget, or on demand; after it, a log whose history exceeds the retention budget is trimmed
 * to the checkpoint, so its space can be reused.
 */

import type { FsEvent, Transaction } from '../events/event.js';
import { LogCursor } from '../events/log-cursor.js';
import type { LogWriter } from '../events/log-writer.js';
import { mergeLogs } from '../events/merge-logs.js';
import type { InodeRecord } from '../format/item-schema.js';
import { Lsm, type LsmOptions } from '../lsm/lsm.js';
import type { SlotCheckpoint } from '../lsm/manifest.js';
import { applyTransaction } from '../projections/projector.js';
import type { Volume } from '../volume/volume.js';

export interface StoreOptions extends LsmOptions {
  /** Trim a log after a checkpoint once it holds more than this fraction of its capacity. */
  retention?: number;
}

export class Store {
  private failure: Error | null = null;
  /** Folds run one at a time, in the order apply was called: each reads what the last wrote. */
  private applying: Promise<void> = Promise.resolve();
  private constructor(
    readonly vol: Volume,
    readonly lsm: Lsm,
    private readonly positions: SlotCheckpoint[],
    private seq: number,
    private readonly retention: number,
    readonly replayed: { transactions: number; events: number },
  ) {}

  static async open(vol: Volume, o: StoreOptions = {}): Promise<Store> {
    const lsm = await Lsm.open(vol, o);
    const m = lsm.manifest;
    const positions = m.checkpoint.map((c) => ({ ...c }));
    const cursors = positions.map((c, slot) => new LogCursor(vol, slot, { ...c, usedBlocks: 0 }));
    const store = new Store(vol, lsm, positions, m.lastSeq, o.retention ?? 0.5, {
      transactions: 0,
      events: 0,
    });
    for await (const t of mergeLogs(cursors)) {
      await store.apply(t);
      store.replayed.transactions += 1;
      store.replayed.events += t.events.length;
    }
    return store;
  }

  /** Highest seq folded in. */
  get lastSeq(): number {
    return this.seq;
  }

  /**
   * Fold one committed transaction (in seq order); starts a checkpoint in the background when
   * the memtable is full. A background checkpoint's failure is thrown by the next call.
   */
  apply(t: Transaction): Promise<void> {
    const done = this.applying.then(() => this.fold(t));
    this.applying = done.catch(() => {});
    return done;
  }

  /**
   * Fold one operation's events at the moment they are appended to this node's open
   * transaction `seq`, so the next operation reads them. The log position is not advanced:
   * that waits for `committed`, so a checkpoint never claims to cover an uncommitted event.
   * The owner checkpoints (after committing its writer) when `needsCheckpoint` says so.
   */
  foldLive(
    events: FsEvent[],
    seq: number,
    beforeApply?: (records: Map<number, InodeRecord | null>) => void,
  ): Promise<void> {
    const done = this.applying.then(async () => {
      if (this.failure) throw this.failure;
      try {
        await applyTransaction(this.lsm, { seq, events }, beforeApply);
      } catch (err) {
        // the memtable may hold part of this transaction: no checkpoint may ever cover it
        this.failure ??= err as Error;
        throw err;
      }
      this.seq = Math.max(this.seq, seq);
    });
    this.applying = done.catch(() => {});
    return done;
  }

  /** A transaction folded live is durable: checkpoints may now cover it. */
  committed(t: Transaction): void {
    this.positions[t.slot] = { ...t.end, seq: t.seq };
  }

  get needsCheckpoint(): boolean {
    return this.lsm.needsCheckpoint;
  }

  private async fold(t: Transaction): Promise<void> {
    if (this.failure) throw this.failure;
    await applyTransaction(this.lsm, t);
    this.positions[t.slot] = { ...t.end, seq: t.seq };
    this.seq = Math.max(this.seq, t.seq);
    if (this.lsm.needsCheckpoint) {
      // a write stall: at most one memtable waits for its flush while the next one fills
      await this.lsm.idle();
      this.freeze().catch((err: Error) => {
        this.failure ??= err;
      });
    }
  }

  /** Checkpoint exactly what is folded now (the memtable freezes before this returns). */
  private freeze(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    return this.lsm.checkpoint(
      this.positions.map((p) => ({ ...p })),
      this.seq,
    );
  }

  /**
   * Make everything applied so far (folds still queued included) durable in the index, then
   * trim `writers`' logs if their history exceeds the retention budget.
   */
  async checkpoint(writers: LogWriter[] = []): Promise<void> {
    await this.applying;
    const at = this.positions.map((p) => ({ ...p }));
    await this.freeze();
    for (const w of writers) {
      if (w.usedBlocks > w.capacityBlocks * this.retention) await w.trim(at[w.slot]!);
    }
  }

  /**
   * Checkpoint what is folded now, for an owner that folds live: call it with no mutation in
   * flight and every folded event committed. The memtable freezes before this returns; the
   * promise resolves once the run is durable and the logs are trimmed, with how many were.
   */
  checkpointCommitted(writers: LogWriter[]): Promise<number> {
    const at = this.positions.map((p) => ({ ...p }));
    const flushed = this.freeze();
    return flushed.then(async () => {
      let trims = 0;
      for (const w of writers) {
        if (w.usedBlocks <= w.capacityBlocks * this.retention) continue;
        await w.trim(at[w.slot]!);
        trims += 1;
      }
      return trims;
    });
  }

  async close(): Promise<void> {
    await this.applying;
    await this.lsm.idle();
    if (this.failure) throw this.failure;
  }
}
