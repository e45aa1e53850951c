/*
 * One mutation in the making: the events it decided, and the data blocks it reserved for them
 * (given back if the mutation fails before its events are appended).
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
}

/** Appends a change's events so far as their own step, for changes too big for one record. */
export type StepFn = (c: Change) => Promise<void>;
