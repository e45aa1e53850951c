/*
 * The data region's free space, in memory, derived from the allocation items.
 *
 * What is allocated is exactly what the allocation zone of the index says (one item per
 * mapped extent, written by the same fold that maps it), so the free map is its complement,
 * built at mount. Allocation is next-fit from a cursor, so a file written sequentially gets
 * contiguous blocks. Blocks freed by a transaction are not handed out again until that
 * transaction is durable: until then a crash would bring back the old mapping, and its data
 * must still be there. Nor, when reads are handed off to other threads, before every read
 * handed off until then is over (offloaded-reads.ts): one may still be reading them.
 */

import { ENOSPC } from '../errors.js';

export interface Span {
  start: number;
  count: number;
}

export class DataSpace {
  /** Free spans, sorted by start, never adjacent. */
  private free: Span[] = [];
  private freeCount = 0;
  private cursor: number;
  /** Spans freed by a transaction not yet durable, by that transaction's seq. */
  private readonly pending = new Map<number, Span[]>();
  /** Runs the freeing of committed blocks once nothing can still be reading them. */
  private whenUnread: (free: () => void) => void = (free) => free();
  /** Resolves once the last committed transaction's blocks are free. */
  private releasing: Promise<void> = Promise.resolve();

  constructor(
    readonly start: number,
    readonly blocks: number,
    used: Iterable<Span>,
  ) {
    this.cursor = start;
    let at = start;
    for (const u of [...used].sort((a, b) => a.start - b.start)) {
      if (u.start > at) this.addFree({ start: at, count: u.start - at });
      at = Math.max(at, u.start + u.count);
    }
    if (start + blocks > at) this.addFree({ start: at, count: start + blocks - at });
  }

  get freeBlocks(): number {
    return this.freeCount;
  }

  /** Blocks freed but waiting for their transaction to commit. */
  get pendingBlocks(): number {
    let n = 0;
    for (const spans of this.pending.values()) for (const s of spans) n += s.count;
    return n;
  }

  /**
   * Up to `want` blocks as few contiguous spans as the free map allows, each at most
   * `maxSpan` long; all of them or ENOSPC.
   */
  alloc(want: number, maxSpan: number, what: string): Span[] {
    if (want > this.freeCount) {
      throw ENOSPC(`data region full: ${what} needs ${want} blocks, ${this.freeCount} are free`);
    }
    const out: Span[] = [];
    let left = want;
    while (left > 0) {
      let i = this.free.findIndex((s) => s.start + s.count > this.cursor);
      if (i < 0) {
        i = 0;
        this.cursor = this.start;
      }
      const s = this.free[i]!;
      const from = Math.max(s.start, this.cursor);
      const take = Math.min(left, maxSpan, s.start + s.count - from);
      this.remove(from, take);
      out.push({ start: from, count: take });
      this.cursor = from + take;
      left -= take;
    }
    return out;
  }

  /**
   * Give back spans allocated but never mapped (the operation failed). With `rewind`, the next
   * allocation starts at the first of them again (blocks reserved ahead of a writer that it did
   * not use: its file goes on there).
   */
  unreserve(spans: Span[], rewind = false): void {
    for (const s of spans) {
      if (s.count <= 0) continue;
      this.addFree(s);
      if (rewind) this.cursor = Math.min(this.cursor, s.start);
    }
  }

  /** Spans unmapped by the transaction `seq`: free once it is durable. */
  freeAfter(seq: number, span: Span): void {
    const list = this.pending.get(seq) ?? [];
    list.push({ ...span });
    this.pending.set(seq, list);
  }

  /** A span freed and mapped again by the same transaction `seq` stays in use. */
  unfree(seq: number, span: Span): void {
    const list = this.pending.get(seq);
    if (!list) return;
    const end = span.start + span.count;
    const left: Span[] = [];
    for (const p of list) {
      const pEnd = p.start + p.count;
      if (pEnd <= span.start || p.start >= end) {
        left.push(p);
        continue;
      }
      if (p.start < span.start) left.push({ start: p.start, count: span.start - p.start });
      if (pEnd > end) left.push({ start: end, count: pEnd - end });
    }
    this.pending.set(seq, left);
  }

  /** Free committed blocks only once every read handed off before their commit is over. */
  gateOn(reads: { afterInFlight(fn: () => void): void }): void {
    this.whenUnread = (free) => reads.afterInFlight(free);
  }

  /** Everything freed by transactions up to `seq` is now free (see `gateOn`). */
  committed(seq: number): void {
    this.releasing = new Promise((resolve) =>
      this.whenUnread(() => {
        this.release(seq);
        resolve();
      }),
    );
  }

  /** Resolves once the blocks of every transaction committed so far are free. */
  released(): Promise<void> {
    return this.releasing;
  }

  private release(seq: number): void {
    for (const [s, spans] of this.pending) {
      if (s > seq) continue;
      for (const span of spans) this.addFree(span);
      this.pending.delete(s);
    }
  }

  private remove(start: number, count: number): void {
    const i = this.free.findIndex((s) => s.start <= start && start + count <= s.start + s.count);
    if (i < 0) throw new RangeError(`blocks ${start}+${count} are not free`);
    const s = this.free[i]!;
    const pieces: Span[] = [];
    if (start > s.start) pieces.push({ start: s.start, count: start - s.start });
    if (start + count < s.start + s.count)
      pieces.push({ start: start + count, count: s.start + s.count - start - count });
    this.free.splice(i, 1, ...pieces);
    this.freeCount -= count;
  }

  private addFree(span: Span): void {
    if (span.count <= 0) return;
    let i = this.free.findIndex((s) => s.start > span.start);
    if (i < 0) i = this.free.length;
    const prev = this.free[i - 1];
    const next = this.free[i];
    if ((prev && prev.start + prev.count > span.start) || (next && span.start + span.count > next.start)) {
      throw new RangeError(`blocks ${span.start}+${span.count} are freed twice`);
    }
    this.freeCount += span.count;
    if (prev && prev.start + prev.count === span.start) {
      prev.count += span.count;
      if (next && prev.start + prev.count === next.start) {
        prev.count += next.count;
        this.free.splice(i, 1);
      }
    } else if (next && span.start + span.count === next.start) {
      next.start = span.start;
      next.count += span.count;
    } else {
      this.free.splice(i, 0, { ...span });
    }
  }
}
