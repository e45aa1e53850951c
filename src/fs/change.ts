/*
 * One mutation in the making: the events it decided, and the data blocks it reserved for them
 * (given back if the mutation fails before its events are appended), and what else it took
 * from the filesystem's memory that must be put back then (the inode numbers it drew).
 */

import type { FsEvent } from '../events/event.js';
import type { Span } from './data-space.js';

export class Change {
  readonly events: FsEvent[] = [];
  readonly reserved: Span[] = [];
  /** The transaction its events were appended to; 0 until they are. */
  seq = 0;
  /** What to do once its events are appended, before it is answered. */
  readonly afterAppend: (() => void)[] = [];
  /** What to undo, last first, if it fails before its events are appended. */
  readonly undo: (() => void)[] = [];

  /** It failed before its events were appended: put back what it took. */
  rollBack(): void {
    for (let f = this.undo.pop(); f; f = this.undo.pop()) f();
  }
}

/** Appends a change's events so far as their own step, for changes too big for one record. */
export type StepFn = (c: Change) => Promise<void>;
