/*
 * The memtable: the newest items, in memory, sorted by key.
 *
 * Keys are held as latin1 strings: one char per byte, so JavaScript's string order is exactly
 * the bytes' memcmp order and a Map gives O(1) point lookups. A delete is kept as a tombstone
 * (value null) so it hides older versions of the item in the runs below until a compaction
 * that reaches the bottom drops it. Key order is kept by a chunked sorted list (sorted-keys.ts),
 * so inserts stay cheap while range scans are running.
 */

import { SortedKeys } from './sorted-keys.js';

export interface Entry {
  seq: number;
  /** null: a tombstone. */
  value: Buffer | null;
}

export class Memtable {
  private readonly items = new Map<string, Entry>();
  private readonly order = new SortedKeys();
  private bytes = 0;

  get size(): number {
    return this.items.size;
  }

  /** Approximate memory held by keys and values. */
  get approxBytes(): number {
    return this.bytes;
  }

  put(key: Buffer, seq: number, value: Buffer | null): void {
    const k = key.toString('latin1');
    const prev = this.items.get(k);
    if (prev && prev.seq > seq) return;
    if (!prev) this.order.add(k);
    this.bytes += (value?.length ?? 0) - (prev?.value?.length ?? 0) + (prev ? 0 : k.length + 48);
    this.items.set(k, { seq, value });
  }

  get(key: Buffer): Entry | undefined {
    return this.items.get(key.toString('latin1'));
  }

  /** Entries with first <= key <= last, in key order, tombstones included. */
  *range(first: Buffer, last: Buffer): Generator<[Buffer, Entry]> {
    const hi = last.toString('latin1');
    for (const k of this.order.from(first.toString('latin1'))) {
      if (k > hi) return;
      yield [Buffer.from(k, 'latin1'), this.items.get(k)!];
    }
  }

  /** Every entry in key order (for flushing into a run). */
  *entries(): Generator<[Buffer, Entry]> {
    for (const k of this.order.from('')) yield [Buffer.from(k, 'latin1'), this.items.get(k)!];
  }
}
