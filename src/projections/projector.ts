/*
 * The projector: folds committed transactions, in seq order, into an item index.
 *
 * For a batch of a transaction's events it fetches what their folds declared they need (from
 * the index read path, which may go to the device), runs the pure fold over the batch, and
 * applies the resulting mutations stamped with the transaction's seq. Within a batch each
 * event's fold sees what the previous ones did (fold.ts); batches are applied one after
 * another, because each reads what the last wrote. `project$` is the RxJS wiring: live commits, a
 * followed log tail and a replay are all streams of transactions, folded the same way.
 */

import { concatMap, from, map, type Observable } from 'rxjs';
import type { FsEvent, Transaction } from '../events/event.js';
import type { InodeRecord } from '../format/item-schema.js';
import { evolve, needs } from './fold.js';
import type { ItemMutation, ItemView, KeyRange } from './item.js';

/** The read and write sides of an index, as the projector sees them. */
export interface ItemIndex {
  get(key: Buffer): Promise<Buffer | null>;
  /**
   * The value when it is known without IO; undefined sends the read to `get`. `id`: the key as
   * latin1, when the caller has it already.
   */
  peek?(key: Buffer, id?: string): Buffer | null | undefined;
  keysIn(range: KeyRange): Promise<Buffer[]>;
  /** The keys when they are known without IO; undefined sends the read to `keysIn`. */
  keysInNow?(range: KeyRange): Buffer[] | undefined;
  apply(mutations: ItemMutation[], seq: number): void;
}

/** Events folded per batch: bounds how many items one fold reads up front. */
const BATCH_EVENTS = 256;

/**
 * `beforeApply`, if given, gets the inode records the last batch leaves (null: deleted) just
 * before that batch's mutations go into the index (earlier batches' are in it by then).
 */
export async function applyTransaction(
  index: ItemIndex,
  txn: Pick<Transaction, 'seq' | 'events'>,
  beforeApply?: (records: Map<number, InodeRecord | null>) => void,
): Promise<void> {
  const { events, seq } = txn;
  for (let i = 0; i < events.length; i += BATCH_EVENTS) {
    const batch = i === 0 && events.length <= BATCH_EVENTS ? events : events.slice(i, i + BATCH_EVENTS);
    const view = viewFor(index, batch);
    const last =
      beforeApply && i + BATCH_EVENTS >= events.length ? new Map<number, InodeRecord | null>() : undefined;
    const mutations = evolve(batch, seq, view instanceof Promise ? await view : view, last);
    if (last) beforeApply!(last);
    index.apply(mutations, seq);
  }
}

/**
 * Read everything a batch's folds declared they need, into the view they fold over: at once
 * when the memtables and bloom filters answer for all of it, else after the reads.
 */
function viewFor(index: ItemIndex, events: readonly FsEvent[]): ItemView | Promise<ItemView> {
  const values = new Map<string, Buffer | null>();
  const slow: [string, Buffer][] = [];
  const ranges: [KeyRange, Buffer[] | null][] = [];
  for (const e of events) {
    const n = needs(e);
    for (const k of n.keys) {
      const s = k.toString('latin1');
      if (values.has(s)) continue;
      const v = index.peek?.(k, s);
      values.set(s, v ?? null);
      if (v === undefined) slow.push([s, k]);
    }
    for (const r of n.ranges) ranges.push([r, index.keysInNow?.(r) ?? null]);
  }
  const view = viewOf(values, ranges as [KeyRange, Buffer[]][]);
  const slowRanges = ranges.filter((r) => r[1] === null);
  if (slow.length === 0 && slowRanges.length === 0) return view;
  return Promise.all([
    ...slow.map(async ([s, k]) => values.set(s, await index.get(k))),
    ...slowRanges.map(async (r) => {
      r[1] = await index.keysIn(r[0]);
    }),
  ]).then(() => view);
}

function viewOf(values: Map<string, Buffer | null>, ranges: [KeyRange, Buffer[]][]): ItemView {
  const getById = (id: string) => {
    const v = values.get(id);
    if (v === undefined)
      throw new Error(`fold read undeclared key ${Buffer.from(id, 'latin1').toString('hex')}`);
    return v;
  };
  return {
    get: (key) => getById(key.toString('latin1')),
    getById,
    keysIn(range) {
      const found = ranges.find(([r]) => r.first.equals(range.first) && r.last.equals(range.last));
      if (!found) throw new Error('fold read an undeclared range');
      return found[1];
    },
  };
}

/** Fold a stream of transactions into the index; emits each seq once it is applied. */
export function project$(index: ItemIndex, txns$: Observable<Transaction>): Observable<number> {
  return txns$.pipe(concatMap((t) => from(applyTransaction(index, t)).pipe(map(() => t.seq))));
}
