/*
 * Reading a node's log: committed transactions in order, stopping cleanly at the end.
 *
 * A cursor starts at a position (the slot header's tail, or where an earlier cursor stopped)
 * and asks, at each step, for exactly one thing: the record with the next lsn at this block.
 * What it finds is judged (see format/record.ts): the record, a wrap marker sending it to the
 * region's first record block, the clean end, or a torn record. A torn record ends the log:
 * its transaction never became durable, and nothing after it is trusted. A record that passes
 * its crc but holds malformed events, or a seq that does not grow, is corruption and throws EIO.
 *
 * Reads go through a readahead window so a mount scanning a long tail does large IOs. When the
 * cursor reaches the end it drops the window, so calling next() again later (follow mode) sees
 * records that were appended in the meantime, by this process or another.
 */

import { readBlocks } from '../device/device.js';
import { EIO } from '../errors.js';
import { decodeEvents } from '../format/event-codec.js';
import { BLOCK_SIZE, MAX_RECORD_BYTES, RECORD_FLAG_WRAP, slotStart } from '../format/layout.js';
import { judgeRecordHeader, recordPayload } from '../format/record.js';
import type { Volume } from '../volume/volume.js';
import type { Transaction } from './event.js';
import { FIRST_RECORD_BLOCK, readSlotHeader } from './slot-header.js';

const WINDOW_BLOCKS = 256;

export interface LogPosition {
  /** The lsn of the next record. */
  lsn: number;
  /** Block (inside the slot region) where the next record goes. */
  block: number;
  /** Seq of the last transaction before this position (0 if none). */
  seq: number;
  /** Blocks in use between the tail and this position, wrap waste included. */
  usedBlocks: number;
  /** Writer epoch of the record before this position (0: none known). */
  epoch: number;
}

export type LogStop = { kind: 'end'; why: string } | { kind: 'torn'; why: string; blocks: number };

export class LogCursor {
  private window: { block: number; buf: Buffer } | null = null;
  private pos: LogPosition;
  private lastStop: LogStop | null = null;

  constructor(
    private readonly vol: Volume,
    readonly slot: number,
    from: LogPosition,
  ) {
    this.pos = { ...from };
  }

  /** A cursor at the slot's tail, the oldest retained record. */
  static async atTail(vol: Volume, slot: number): Promise<LogCursor> {
    const h = await readSlotHeader(vol, slot);
    const from = { lsn: h.tailLsn, block: h.tailBlock, seq: h.tailSeq, usedBlocks: 0, epoch: h.tailEpoch };
    return new LogCursor(vol, slot, from);
  }

  get position(): LogPosition {
    return { ...this.pos };
  }

  /** Why the last next() returned null. */
  get stop(): LogStop | null {
    return this.lastStop;
  }

  get regionBlocks(): number {
    return this.vol.sb.logBlocksPerSlot;
  }

  /** The next committed transaction, or null at the end of the log (see `stop`). */
  async next(): Promise<Transaction | null> {
    for (;;) {
      if (this.pos.block >= this.regionBlocks) this.wrap();
      const first = await this.blocks(this.pos.block, 1);
      const { lsn, block, epoch: minEpoch } = this.pos;
      const at = { fsid: this.vol.sb.fsid, slot: this.slot, lsn, block, minEpoch };
      const verdict = judgeRecordHeader(first, at);
      if (verdict.kind !== 'record')
        return this.end(verdict.kind === 'torn' ? { ...verdict, blocks: 1 } : verdict);
      const h = verdict.header;
      const blocks = verdict.bytes / BLOCK_SIZE;
      if (h.flags & RECORD_FLAG_WRAP) {
        this.pos.epoch = h.epoch;
        this.wrap();
        continue;
      }
      if (this.pos.block + blocks > this.regionBlocks) {
        return this.end({ kind: 'torn', why: `record of ${blocks} blocks runs past the region`, blocks: 1 });
      }
      const buf = await this.blocks(this.pos.block, blocks);
      const payload = recordPayload(buf, h);
      if (!payload) return this.end({ kind: 'torn', why: `lsn ${h.lsn}: crc32c mismatch`, blocks });
      const what = `log slot ${this.slot} lsn ${h.lsn} (block ${slotStart(this.vol.sb, this.slot) + this.pos.block})`;
      if (h.seq <= this.pos.seq) throw EIO(`${what}: seq ${h.seq} does not follow ${this.pos.seq}`);
      const events = decodeEvents(payload, what);
      if (events.length !== h.count)
        throw EIO(`${what}: header says ${h.count} events, payload has ${events.length}`);
      const usedBlocks = this.pos.usedBlocks + blocks;
      this.pos = { lsn: h.lsn + 1, block: this.pos.block + blocks, seq: h.seq, usedBlocks, epoch: h.epoch };
      this.lastStop = null;
      const end = { lsn: this.pos.lsn, block: this.pos.block, epoch: h.epoch };
      return { seq: h.seq, slot: this.slot, lsn: h.lsn, commitMs: h.commitMs, events, end };
    }
  }

  /** Read every remaining transaction (for tools and tests; a mount folds them one by one). */
  async readAll(): Promise<Transaction[]> {
    const out: Transaction[] = [];
    for (let t = await this.next(); t; t = await this.next()) out.push(t);
    return out;
  }

  private wrap(): void {
    this.pos.usedBlocks += this.regionBlocks - this.pos.block;
    this.pos.block = FIRST_RECORD_BLOCK;
  }

  private end(stop: LogStop): null {
    this.window = null;
    this.lastStop = stop;
    return null;
  }

  private async blocks(block: number, count: number): Promise<Buffer> {
    const w = this.window;
    if (w && block >= w.block && block + count <= w.block + w.buf.length / BLOCK_SIZE) {
      const off = (block - w.block) * BLOCK_SIZE;
      return w.buf.subarray(off, off + count * BLOCK_SIZE);
    }
    const want = Math.min(Math.max(count, WINDOW_BLOCKS), this.regionBlocks - block);
    const buf = await readBlocks(this.vol.dev, slotStart(this.vol.sb, this.slot) + block, want);
    this.window = { block, buf };
    return buf.subarray(0, count * BLOCK_SIZE);
  }
}

export const MAX_RECORD_BLOCKS = MAX_RECORD_BYTES / BLOCK_SIZE;
