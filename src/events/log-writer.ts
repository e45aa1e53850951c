/*
 * A node's log writer: transactions with group commit.
 *
 * Operations append their events to the open transaction, which has its seq from the seq
 * authority from the moment it opens (so the items it changes can carry that seq while it is
 * still open). A transaction is sealed when someone asks for a commit, when it grows past the
 * target size, or when its commit delay runs out. Sealed transactions are written as
 * consecutive records, each its own crc'd unit, and made durable by one fdatasync: while one
 * batch is being synced, the next transaction fills, and it goes out in the next batch. That is
 * the group commit: one sync per batch, not per operation.
 *
 * The writer only ever writes past the last durable record, never over a block that holds an
 * acknowledged record, and it never lets the head pass the tail (ENOSPC instead). A failed write
 * or sync leaves the log in an unknown state past the last acknowledged record, so the writer
 * refuses all later work with the original error; the next open of the log finds the true end.
 */

import { Subject } from 'rxjs';
import { writeBlocks } from '../device/device.js';
import { ENOSPC, FsError } from '../errors.js';
import { encodeEventRun, eventListHead } from '../format/event-codec.js';
import { BLOCK_SIZE, MAX_RECORD_BYTES, RECORD_FLAG_WRAP, slotStart } from '../format/layout.js';
import { encodeRecord, RECORD_HEADER_BYTES, recordBytes } from '../format/record.js';
import type { Volume } from '../volume/volume.js';
import type { FsEvent, LogPoint, Transaction } from './event.js';
import { LogCursor, type LogPosition } from './log-cursor.js';
import type { SeqAuthority } from './seq-authority.js';
import { FIRST_RECORD_BLOCK, readSlotHeader, writeSlotHeader } from './slot-header.js';

export interface LogWriterOptions {
  /** Seal the open transaction once it holds this many bytes of events. */
  targetTxnBytes?: number;
  /** Commit an open transaction at the latest this long after it opened (0: only on demand). */
  commitDelayMs?: number;
  /**
   * Runs before each batch of records is written: file data that the batch's events map must
   * be durable before the records that map it are written (the data barrier).
   */
  beforeWrite?: () => Promise<void>;
}

interface OpenTxn {
  seq: number;
  events: FsEvent[];
  parts: Buffer[];
  bytes: number;
  durable: Promise<void>;
  resolve: () => void;
  reject: (err: Error) => void;
  timer?: NodeJS.Timeout;
  /** Set when the transaction is laid out as a record. */
  lsn?: number;
  commitMs?: number;
  end?: LogPoint;
}

const MAX_EVENTS_BYTES = MAX_RECORD_BYTES - RECORD_HEADER_BYTES - 8;

export class LogWriter {
  /** Every transaction once it is durable, in seq order. */
  readonly committed$ = new Subject<Transaction>();
  private openTxn: OpenTxn | null = null;
  private opening: Promise<OpenTxn> | null = null;
  private sealed: OpenTxn[] = [];
  private lastSealed: OpenTxn | null = null;
  private flushing: Promise<void> | null = null;
  private failed: Error | null = null;
  private head: LogPosition;
  private tail: { lsn: number; block: number };
  /** This opening's writer epoch, stamped on every record it writes. */
  readonly epoch: number;
  private readonly targetBytes: number;
  private readonly commitDelayMs: number;
  private readonly beforeWrite: (() => Promise<void>) | undefined;

  private constructor(
    private readonly vol: Volume,
    readonly slot: number,
    private readonly authority: SeqAuthority,
    head: LogPosition,
    tail: { lsn: number; block: number },
    epoch: number,
    o: LogWriterOptions,
  ) {
    this.epoch = epoch;
    this.head = head;
    this.tail = tail;
    this.targetBytes = Math.min(o.targetTxnBytes ?? 256 * 1024, MAX_EVENTS_BYTES);
    this.commitDelayMs = o.commitDelayMs ?? 0;
    this.beforeWrite = o.beforeWrite;
  }

  /**
   * Open the slot's log for appending: find the end, and clear a torn record found there so
   * no part of it can ever be read as a record again.
   */
  static async open(
    vol: Volume,
    slot: number,
    authority: SeqAuthority,
    o: LogWriterOptions = {},
  ): Promise<LogWriter> {
    const cursor = await LogCursor.atTail(vol, slot);
    while (await cursor.next());
    const head = cursor.position;
    const stop = cursor.stop;
    if (stop?.kind === 'torn') {
      const blocks = Math.min(stop.blocks, vol.sb.logBlocksPerSlot - head.block);
      await writeBlocks(vol.dev, slotStart(vol.sb, slot) + head.block, Buffer.alloc(blocks * BLOCK_SIZE));
      await vol.dev.sync();
    }
    const { generation: _, ...h } = await readSlotHeader(vol, slot);
    const epoch = h.epoch + 1;
    await writeSlotHeader(vol, { ...h, epoch });
    return new LogWriter(vol, slot, authority, head, { lsn: h.tailLsn, block: h.tailBlock }, epoch, o);
  }

  /** Position after the last durable record. */
  get position(): LogPosition {
    return { ...this.head };
  }

  get capacityBlocks(): number {
    return this.vol.sb.logBlocksPerSlot - FIRST_RECORD_BLOCK;
  }

  /**
   * Add one operation's events to the open transaction, all or none, and return that
   * transaction's seq. The events are durable once `commit()` (or `durable(seq)`) resolves.
   */
  async append(events: readonly FsEvent[]): Promise<number> {
    this.checkUsable();
    const encoded = encodeEventRun(events);
    const bytes = encoded.length;
    if (bytes > MAX_EVENTS_BYTES) {
      throw new FsError(
        'EFBIG',
        `one operation's events take ${bytes} bytes; a transaction holds ${MAX_EVENTS_BYTES}`,
      );
    }
    for (;;) {
      const txn = this.openTxn ?? (await this.openNext());
      this.checkUsable();
      if (txn !== this.openTxn) continue;
      if (txn.events.length > 0 && txn.bytes + bytes > this.targetBytes) {
        this.seal();
        continue;
      }
      txn.events.push(...events);
      txn.parts.push(encoded);
      txn.bytes += bytes;
      return txn.seq;
    }
  }

  /** Make everything appended so far durable; resolves with the last durable seq. */
  async commit(): Promise<number> {
    this.checkUsable();
    if (this.openTxn) this.seal();
    await this.lastSealed?.durable;
    return this.head.seq;
  }

  /**
   * Let the log reuse the space before `to`, the position after a transaction whose effects a
   * checkpoint made durable. The new tail is made durable in the slot header before the space
   * is counted as free.
   */
  async trim(to: LogPoint & { seq: number }): Promise<void> {
    this.checkUsable();
    const { tail, head } = this;
    if (to.lsn < tail.lsn || to.lsn > head.lsn) {
      throw new RangeError(
        `cannot trim log slot ${this.slot} to lsn ${to.lsn}: retained lsns are ${tail.lsn}..${head.lsn}`,
      );
    }
    const region = this.vol.sb.logBlocksPerSlot;
    let freed: number;
    if (to.lsn === tail.lsn) freed = 0;
    else if (to.lsn === head.lsn) freed = head.usedBlocks;
    else if (to.block > tail.block) freed = to.block - tail.block;
    else freed = region - tail.block + (to.block - FIRST_RECORD_BLOCK);
    await writeSlotHeader(this.vol, {
      slot: this.slot,
      tailLsn: to.lsn,
      tailBlock: to.block,
      tailSeq: to.seq,
      tailEpoch: to.epoch,
      epoch: this.epoch,
    });
    this.tail = { lsn: to.lsn, block: to.block };
    this.head.usedBlocks -= freed;
  }

  /** Blocks between the tail and the head. */
  get usedBlocks(): number {
    return this.head.usedBlocks;
  }

  /** The seq of the open transaction, if one is open. */
  get openSeq(): number | null {
    return this.openTxn?.seq ?? null;
  }

  /** Commit what is pending and refuse further appends. */
  async close(): Promise<void> {
    if (!this.failed) await this.commit();
    this.failed ??= new FsError('EBADF', `log slot ${this.slot} writer is closed`);
    this.committed$.complete();
  }

  private openNext(): Promise<OpenTxn> {
    this.opening ??= this.authority.openSeq().then((seq) => {
      let resolve!: () => void;
      let reject!: (err: Error) => void;
      const durable = new Promise<void>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      durable.catch(() => {});
      const txn: OpenTxn = { seq, events: [], parts: [], bytes: 0, durable, resolve, reject };
      if (this.commitDelayMs > 0) {
        txn.timer = setTimeout(() => this.openTxn === txn && this.seal(), this.commitDelayMs);
        txn.timer.unref();
      }
      this.openTxn = txn;
      this.opening = null;
      return txn;
    });
    return this.opening;
  }

  private seal(): void {
    const txn = this.openTxn;
    if (!txn) return;
    this.openTxn = null;
    clearTimeout(txn.timer);
    if (txn.events.length === 0) {
      this.authority.closeSeq(txn.seq);
      txn.resolve();
      return;
    }
    this.sealed.push(txn);
    this.lastSealed = txn;
    this.kick();
  }

  private kick(): void {
    if (this.flushing || this.sealed.length === 0 || this.failed) return;
    const batch = this.sealed.splice(0);
    this.flushing = this.writeBatch(batch)
      .then(
        () => {
          for (const t of batch) {
            this.authority.closeSeq(t.seq);
            t.resolve();
            this.committed$.next({
              seq: t.seq,
              slot: this.slot,
              lsn: t.lsn!,
              commitMs: t.commitMs!,
              events: t.events,
              end: t.end!,
            });
          }
        },
        (err: Error) => this.fail(err, batch),
      )
      .finally(() => {
        this.flushing = null;
        this.kick();
      });
  }

  private async writeBatch(batch: OpenTxn[]): Promise<void> {
    const region = this.vol.sb.logBlocksPerSlot;
    const base = slotStart(this.vol.sb, this.slot);
    const runs: { block: number; bufs: Buffer[] }[] = [];
    const put = (block: number, buf: Buffer) => {
      const last = runs.at(-1);
      const lastEnd = last ? last.block + last.bufs.reduce((n, b) => n + b.length, 0) / BLOCK_SIZE : -1;
      if (last && lastEnd === block) last.bufs.push(buf);
      else runs.push({ block, bufs: [buf] });
    };
    const pos = { ...this.head };
    const startUsed = pos.usedBlocks;
    const commitMs = Date.now();
    const fsid = this.vol.sb.fsid;
    for (const t of batch) {
      const payload = [eventListHead(t.events.length), ...t.parts];
      const blocks = recordBytes(payload.reduce((n, p) => n + p.length, 0)) / BLOCK_SIZE;
      const wrapWaste = pos.block + blocks > region ? region - pos.block : 0;
      if (pos.usedBlocks + wrapWaste + blocks > this.capacityBlocks) {
        throw ENOSPC(
          `log slot ${this.slot} is full (${pos.usedBlocks} of ${this.capacityBlocks} blocks in use)`,
        );
      }
      const at = () => ({
        fsid,
        slot: this.slot,
        lsn: pos.lsn,
        block: pos.block,
        seq: t.seq,
        epoch: this.epoch,
      });
      if (wrapWaste > 0) {
        if (pos.block < region)
          put(pos.block, encodeRecord({ ...at(), count: 0, commitMs, flags: RECORD_FLAG_WRAP }, []));
        pos.usedBlocks += wrapWaste;
        pos.block = FIRST_RECORD_BLOCK;
      }
      put(pos.block, encodeRecord({ ...at(), count: t.events.length, commitMs }, payload));
      t.lsn = pos.lsn;
      t.commitMs = commitMs;
      pos.lsn += 1;
      pos.block += blocks;
      pos.epoch = this.epoch;
      t.end = { lsn: pos.lsn, block: pos.block, epoch: this.epoch };
      pos.seq = t.seq;
      pos.usedBlocks += blocks;
    }
    await this.beforeWrite?.();
    for (const r of runs) await writeBlocks(this.vol.dev, base + r.block, Buffer.concat(r.bufs));
    await this.vol.dev.sync();
    // a trim may have freed space meanwhile: add what this batch used instead of overwriting
    this.head = { ...pos, usedBlocks: this.head.usedBlocks + (pos.usedBlocks - startUsed) };
  }

  private fail(err: Error, batch: OpenTxn[]): void {
    this.failed = err;
    const open = this.openTxn;
    this.openTxn = null;
    for (const t of [...batch, ...this.sealed.splice(0), ...(open ? [open] : [])]) {
      clearTimeout(t.timer);
      t.reject(err);
    }
  }

  private checkUsable(): void {
    if (this.failed) throw this.failed;
  }
}
