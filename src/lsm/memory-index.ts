/*
 * An item index held entirely in a memtable: the projector's target for replays and tools
 * that rebuild items from the logs, and the top layer of the on-device index.
 */

import type { ItemMutation, KeyRange } from '../projections/item.js';
import type { ItemIndex } from '../projections/projector.js';
import { Memtable } from './memtable.js';

export class MemoryIndex implements ItemIndex {
  readonly memtable = new Memtable();

  async get(key: Buffer): Promise<Buffer | null> {
    return this.memtable.get(key)?.value ?? null;
  }

  async keysIn(range: KeyRange): Promise<Buffer[]> {
    return [...this.scan(range)].map(([k]) => k);
  }

  apply(mutations: ItemMutation[], seq: number): void {
    for (const m of mutations) this.memtable.put(m.key, seq, m.value, m.id);
  }

  /** Live items (tombstones skipped) in a key range, in order. */
  *scan(range: KeyRange): Generator<[Buffer, Buffer]> {
    for (const [k, e] of this.memtable.range(range.first, range.last)) if (e.value) yield [k, e.value];
  }
}
