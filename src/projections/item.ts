/*
 * Item mutations: what projections produce and the index applies.
 *
 * A projection never writes; it returns puts and deletes of items, each to be stamped with
 * the seq of the transaction whose event produced it. Reads for a fold go through an ItemView
 * holding exactly the items the fold asked for beforehand (see fold.ts `needs`), so the fold
 * itself is synchronous, pure and cannot reach for anything it did not declare.
 */

/** A put (value) or a delete (null) of one item. */
export interface ItemMutation {
  key: Buffer;
  value: Buffer | null;
  /** The key as a latin1 string (one char per byte), when the producer already made it. */
  id?: string;
}

export interface KeyRange {
  /** Inclusive first key. */
  first: Buffer;
  /** Inclusive last key. */
  last: Buffer;
}

/** What a fold needs read before it runs: single keys and whole ranges. */
export interface Needs {
  keys: Buffer[];
  ranges: KeyRange[];
}

/** The items a fold may read: a snapshot of what it declared in its Needs. */
export interface ItemView {
  /** The value, null when absent; throws if the key was not declared. */
  get(key: Buffer): Buffer | null;
  /** As get, by the key's latin1 string. */
  getById(id: string): Buffer | null;
  /** Keys present in a declared range, in order. */
  keysIn(range: KeyRange): Buffer[];
}
