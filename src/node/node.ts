/*
 * A node: one mount of a volume, with its subsystems brought up in dependency order and torn
 * down in reverse.
 *
 *   volume      the device and its superblock (format hash checked)
 *   store       the LSM index, caught up with every log's tail since the last checkpoint
 *   authority   the seq authority (a cluster of one, in process)
 *   writer      this node slot's log, with group commit and the data barrier
 *   data space  the free-space map, from the allocation items
 *   fs          the POSIX operations; reclaims orphans a crash left behind
 *
 * Checkpoints happen here: when the memtable is full or the log is filling, the node commits
 * its writer, freezes the memtable under the filesystem's exclusive lock (so the checkpoint
 * covers exactly what is committed), writes the run and runs the compactions it sets off in
 * the background, and trims the log. A mutation that finds the new memtable full while that
 * checkpoint is still running waits for it: the write stall that bounds memory.
 */

import { LogWriter as Writer } from '../events/log-writer.js';
import { LocalSeqAuthority } from '../events/seq-authority.js';
import { DataSpace } from '../fs/data-space.js';
import { Fs } from '../fs/fs.js';
import { FsItems } from '../fs/fs-items.js';
import { openVolume, type Volume } from '../volume/volume.js';
import { Store, type StoreOptions } from './store.js';

export interface NodeOptions extends StoreOptions {
  /** The log slot this node writes. */
  slot?: number;
  /** Commit an open transaction at the latest this long after it opened. */
  commitDelayMs?: number;
  readOnly?: boolean;
}

/** Checkpoint once the log holds this fraction of its capacity. */
const LOG_CHECKPOINT_FRACTION = 0.6;
/** Past this fraction, mutations wait for the checkpoint in flight. */
const LOG_STALL_FRACTION = 0.8;

export class Node {
  /** What the node did, for tools and benchmarks. */
  readonly counters = { checkpoints: 0, trims: 0, stalls: 0, stallMs: 0 };
  private checkpointing: Promise<void> | null = null;
  /** Until the checkpoint in flight has frozen the memtable. */
  private freezing: Promise<void> | null = null;
  private failure: Error | null = null;
  private closing: Promise<void> | null = null;

  private constructor(
    readonly vol: Volume,
    readonly store: Store,
    readonly authority: LocalSeqAuthority,
    readonly writer: Writer,
    readonly fs: Fs,
    readonly orphansReclaimed: number,
  ) {}

  static async open(device: string, o: NodeOptions = {}): Promise<Node> {
    const slot = o.slot ?? 0;
    const vol = await openVolume(device);
    try {
      if (slot < 0 || slot >= vol.sb.logSlots) {
        throw new RangeError(`slot ${slot} is not one of the volume's ${vol.sb.logSlots} log slots`);
      }
      const store = await Store.open(vol, o);
      const authority = new LocalSeqAuthority(store.lastSeq);
      const items = new FsItems(store.lsm);
      const used: { start: number; count: number }[] = [];
      for await (const a of items.allocations()) used.push({ start: a.physical, count: a.count });
      const space = new DataSpace(vol.sb.dataStart, vol.sb.dataBlocks, used);
      let fs: Fs | null = null;
      const writer = await Writer.open(vol, slot, authority, {
        commitDelayMs: o.commitDelayMs ?? 1000,
        beforeWrite: () => fs?.dataBarrier() ?? Promise.resolve(),
      });
      writer.committed$.subscribe((t) => {
        store.committed(t);
        space.committed(t.seq);
      });
      const holder: { node?: Node } = {};
      fs = new Fs({
        sb: vol.sb,
        dev: vol.dev,
        items: store.lsm,
        writer,
        space,
        fold: (events, seq, beforeApply) => store.foldLive(events, seq, beforeApply),
        nextIno: Math.max(vol.sb.nextIno, await items.inodeReservation()),
        lastSeq: store.lastSeq,
        beforeMutation: () => holder.node?.maybeCheckpoint() ?? Promise.resolve(),
      });
      const reclaimed = await fs.reclaimOrphans();
      await fs.commit();
      const node = new Node(vol, store, authority, writer, fs, reclaimed);
      holder.node = node;
      return node;
    } catch (err) {
      await vol.dev.close();
      throw err;
    }
  }

  /** Highest seq below which every transaction is durable: what walk-inodes may show. */
  get stableSeq(): number {
    return this.authority.stableSeq();
  }

  /** Commit now and checkpoint: everything so far durable, in the index. */
  async sync(): Promise<number> {
    const seq = await this.fs.commit();
    await this.checkpoint();
    return seq;
  }

  /**
   * Before each mutation: start a checkpoint in the background when the memtable is full or the
   * log is filling; if one is already in flight and the new memtable is full too (or the log is
   * nearly full), wait for it (a write stall). A checkpoint covers its flush and the compactions
   * after it, so at most one frozen memtable and one compaction's working set exist at a time.
   */
  async maybeCheckpoint(): Promise<void> {
    if (this.failure) throw this.failure;
    const used = this.writer.usedBlocks / this.writer.capacityBlocks;
    if (!this.store.needsCheckpoint && used < LOG_CHECKPOINT_FRACTION) return;
    if (!this.checkpointing) {
      this.checkpoint().catch(() => {});
      return;
    }
    if (this.freezing) {
      // the checkpoint has not frozen the memtable yet: wait for that, not for its flush
      await this.freezing;
      return;
    }
    if (this.store.needsCheckpoint || used > LOG_STALL_FRACTION) {
      const t = performance.now();
      await this.checkpointing.catch(() => {});
      this.counters.stalls += 1;
      this.counters.stallMs += performance.now() - t;
      if (this.failure) throw this.failure;
    }
  }

  checkpoint(): Promise<void> {
    this.checkpointing ??= this.runCheckpoint().finally(() => {
      this.checkpointing = null;
    });
    return this.checkpointing;
  }

  private async runCheckpoint(): Promise<void> {
    try {
      const frozen = this.fs.quiesced(async () => {
        // a failed fold: the log holds events the index lacks, so nothing may be checkpointed
        if (this.fs.failure) throw this.fs.failure;
        await this.writer.commit();
        return { flushed: this.store.checkpointCommitted([this.writer]) };
      });
      this.freezing = frozen.then(
        () => {},
        () => {},
      );
      const { flushed } = await frozen.finally(() => {
        this.freezing = null;
      });
      this.counters.trims += await flushed;
      await this.store.lsm.idle();
      this.counters.checkpoints += 1;
    } catch (err) {
      this.failure ??= err as Error;
      this.fs.fail(err as Error);
      throw err;
    }
  }

  /** Commit, checkpoint and close; operations are refused from the first moment. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      let first: unknown = null;
      try {
        // what write windows wrote goes into the last commit, and nothing is written after it
        await this.fs.stopWrites();
        if (!this.failure) await this.sync();
      } catch (err) {
        first = err;
      }
      await this.fs.quiesced(async () => this.fs.fail(new Error('unmounted')));
      try {
        await this.writer.close();
        await this.store.close();
      } catch (err) {
        first ??= err;
      }
      await this.vol.dev.close();
      if (first) throw first;
    })();
    return this.closing;
  }
}
