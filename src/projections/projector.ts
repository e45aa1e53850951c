/*
 * The projector: folds committed transactions, in seq order, into an item index.
 *
 * For each event it fetches what the fold declared it needs (from the index read path, which
 * may go to the device), runs the pure fold, and applies the resulting mutations stamped with
 * the transaction's seq. Events are applied strictly one after another, because each event's
 * fold reads what the previous one wrote. `project$` is the RxJS wiring: live commits, a
 * followed log tail and a replay are all streams of transactions, folded the same way.
 */

import { concatMap, from, map, type Observable } from 'rxjs';
import type { Transaction } from '../events/event.js';
import { evolve, needs } from './fold.js';
import type { ItemMutation, ItemView, KeyRange } from './item.js';

/** The read and write sides of an index, as the projector sees them. */
export interface ItemIndex {
  get(key: Buffer): Promise<Buffer | null>;
  /** The value when it is known without IO; undefined sends the read to `get`. */
  peek?(key: Buffer): Buffer | null | undefined;
  keysIn(range: KeyRange): Promise<Buffer[]>;
  apply(mutations: ItemMutation[], seq: number): void;
}

export async function applyTransaction(
  index: ItemIndex,
  txn: Pick<Transaction, 'seq' | 'events'>,
): Promise<void> {
  for (const e of txn.events) {
    const n = needs(e);
    const values = new Map<string, Buffer | null>();
    const slow: Buffer[] = [];
    for (const k of n.keys) {
      const v = index.peek?.(k);
      if (v === undefined) slow.push(k);
      else values.set(k.toString('latin1'), v);
    }
    if (slow.length)
      await Promise.all(slow.map(async (k) => values.set(k.toString('latin1'), await index.get(k))));
    const ranges = n.ranges.length
      ? await Promise.all(n.ranges.map(async (r) => [r, await index.keysIn(r)] as const))
      : [];
    const view: ItemView = {
      get(key) {
        const v = values.get(key.toString('latin1'));
        if (v === undefined) throw new Error(`fold read undeclared key ${key.toString('hex')}`);
        return v;
      },
      keysIn(range) {
        const found = ranges.find(([r]) => r.first.equals(range.first) && r.last.equals(range.last));
        if (!found) throw new Error('fold read an undeclared range');
        return found[1];
      },
    };
    index.apply(evolve(e, txn.seq, view), txn.seq);
  }
}

/** Fold a stream of transactions into the index; emits each seq once it is applied. */
export function project$(index: ItemIndex, txns$: Observable<Transaction>): Observable<number> {
  return txns$.pipe(concatMap((t) => from(applyTransaction(index, t)).pipe(map(() => t.seq))));
}
