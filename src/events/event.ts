/*
 * The event vocabulary: every metadata mutation, as a closed union of past-tense facts.
 *
 * The fields of each event are defined once, in src/format/event-schema.ts, because they are
 * part of the on-device format and feed the format hash; the types here are derived from that
 * table, so the union and the codec cannot drift apart. See the schema for what each event
 * means and which non-deterministic inputs it carries.
 */

import type { AnyEvent, EventOf, EventType, Timespec } from '../format/event-schema.js';

export type { EventType, Timespec };
export type FsEvent = AnyEvent;

export type InodesReserved = EventOf<'InodesReserved'>;
export type InodeCreated = EventOf<'InodeCreated'>;
export type InodeModeChanged = EventOf<'InodeModeChanged'>;
export type InodeOwnerChanged = EventOf<'InodeOwnerChanged'>;
export type InodeTimesSet = EventOf<'InodeTimesSet'>;
export type DirentAdded = EventOf<'DirentAdded'>;
export type DirentRemoved = EventOf<'DirentRemoved'>;
export type SymlinkTargetSet = EventOf<'SymlinkTargetSet'>;
export type XattrSet = EventOf<'XattrSet'>;
export type XattrRemoved = EventOf<'XattrRemoved'>;
export type ExtentMapped = EventOf<'ExtentMapped'>;
export type ExtentUnmapped = EventOf<'ExtentUnmapped'>;
export type DataWritten = EventOf<'DataWritten'>;
export type FileTruncated = EventOf<'FileTruncated'>;
export type OrphanAdded = EventOf<'OrphanAdded'>;
export type InodeDeleted = EventOf<'InodeDeleted'>;

/** The inodes an event touches, for filtering ("events --ino"). */
export function inodesOf(e: FsEvent): number[] {
  switch (e.type) {
    case 'InodesReserved':
      return [];
    case 'DirentAdded':
    case 'DirentRemoved':
      return [e.dir, e.ino];
    default:
      return [e.ino];
  }
}

/** A place in a node's log: the next record's lsn and block, and the epoch of the one before. */
export interface LogPoint {
  lsn: number;
  block: number;
  epoch: number;
}

/** A committed transaction: the events of one log record, in order. */
export interface Transaction {
  seq: number;
  slot: number;
  lsn: number;
  /** Wall-clock time of the commit, ms since the epoch (informational). */
  commitMs: number;
  events: FsEvent[];
  /** Where the next record of this log goes: replaying from here skips this transaction. */
  end: LogPoint;
}
