/*
 * The event vocabulary as data: every metadata mutation the filesystem records, with its fields
 * in the order they are encoded.
 *
 * An event is a past-tense fact. It carries every input that is not a function of the log
 * (inode numbers, timestamps, readdir positions, block addresses), so replaying the log yields
 * the same items every time. The transaction seq is not in the events: it is the record's, and
 * it is what the projections stamp as meta_seq / data_seq.
 *
 * This table is the single definition: the TypeScript union in src/events is derived from it,
 * the codec encodes each event as [code, ...fields] in this order, and the format hash covers
 * it. Codes are forever: never reuse or renumber one.
 */

export type EventFieldType = 'uint' | 'int' | 'time' | 'bytes';
type FieldList = readonly (readonly [name: string, type: EventFieldType])[];
export interface EventDef {
  readonly code: number;
  readonly fields: FieldList;
  readonly doc: string;
}

export const EVENT_SCHEMA = {
  InodesReserved: {
    code: 1,
    fields: [
      ['first', 'uint'],
      ['count', 'uint'],
    ],
    doc: 'the seq authority granted this node the inode numbers first..first+count-1',
  },
  InodeCreated: {
    code: 2,
    fields: [
      ['ino', 'uint'],
      ['mode', 'uint'],
      ['uid', 'uint'],
      ['gid', 'uint'],
      ['rdev', 'uint'],
      ['time', 'time'],
    ],
    doc: 'an inode came to be, with no links yet; atime, mtime, ctime and crtime are all `time`',
  },
  InodeModeChanged: {
    code: 3,
    fields: [
      ['ino', 'uint'],
      ['mode', 'uint'],
      ['ctime', 'time'],
    ],
    doc: 'chmod, or the kernel clearing setuid/setgid; `mode` is the whole new mode',
  },
  InodeOwnerChanged: {
    code: 4,
    fields: [
      ['ino', 'uint'],
      ['uid', 'uint'],
      ['gid', 'uint'],
      ['mode', 'uint'],
      ['ctime', 'time'],
    ],
    doc: 'chown; `mode` carries any setuid/setgid bits the change cleared',
  },
  InodeTimesSet: {
    code: 5,
    fields: [
      ['ino', 'uint'],
      ['atime', 'time'],
      ['mtime', 'time'],
      ['ctime', 'time'],
    ],
    doc: 'utimensat or an access-time update; all three times after the change',
  },
  DirentAdded: {
    code: 6,
    fields: [
      ['dir', 'uint'],
      ['name', 'bytes'],
      ['ino', 'uint'],
      ['dtype', 'uint'],
      ['pos', 'uint'],
      ['time', 'time'],
    ],
    doc: 'a name in `dir` now links `ino` at readdir position `pos`; dir mtime/ctime and the target ctime become `time`',
  },
  DirentRemoved: {
    code: 7,
    fields: [
      ['dir', 'uint'],
      ['name', 'bytes'],
      ['ino', 'uint'],
      ['dtype', 'uint'],
      ['pos', 'uint'],
      ['time', 'time'],
    ],
    doc: 'the name no longer links `ino`; dir mtime/ctime and the target ctime become `time`',
  },
  SymlinkTargetSet: {
    code: 8,
    fields: [
      ['ino', 'uint'],
      ['target', 'bytes'],
    ],
    doc: 'the target of a new symlink inode',
  },
  XattrSet: {
    code: 9,
    fields: [
      ['ino', 'uint'],
      ['name', 'bytes'],
      ['value', 'bytes'],
      ['ctime', 'time'],
    ],
    doc: 'an extended attribute was created or replaced',
  },
  XattrRemoved: {
    code: 10,
    fields: [
      ['ino', 'uint'],
      ['name', 'bytes'],
      ['ctime', 'time'],
    ],
    doc: 'an extended attribute was removed',
  },
  ExtentMapped: {
    code: 11,
    fields: [
      ['ino', 'uint'],
      ['logical', 'uint'],
      ['physical', 'uint'],
      ['count', 'uint'],
    ],
    doc: 'file blocks logical..+count now live at device blocks physical..+count, already written',
  },
  ExtentUnmapped: {
    code: 12,
    fields: [
      ['ino', 'uint'],
      ['logical', 'uint'],
      ['physical', 'uint'],
      ['count', 'uint'],
    ],
    doc: 'file blocks logical..+count no longer map device blocks physical..+count, which are free',
  },
  DataWritten: {
    code: 13,
    fields: [
      ['ino', 'uint'],
      ['offset', 'uint'],
      ['length', 'uint'],
      ['size', 'uint'],
      ['time', 'time'],
    ],
    doc: 'file contents changed in offset..+length; size is the size after; mtime/ctime become `time`',
  },
  FileTruncated: {
    code: 14,
    fields: [
      ['ino', 'uint'],
      ['size', 'uint'],
      ['time', 'time'],
    ],
    doc: 'the size was set (either way); blocks past it are unmapped by ExtentUnmapped in the same transaction',
  },
  OrphanAdded: {
    code: 15,
    fields: [['ino', 'uint']],
    doc: 'the last name of an open inode went away; it lives until the last close',
  },
  InodeDeleted: {
    code: 16,
    fields: [
      ['ino', 'uint'],
      ['xattrs', 'uint'],
    ],
    doc: 'the inode and its `xattrs` xattrs and orphan mark are gone; its extents were unmapped first',
  },
} as const satisfies Record<string, EventDef>;

export type EventType = keyof typeof EVENT_SCHEMA;

export interface Timespec {
  sec: number;
  nsec: number;
}

type ValueOf<T extends EventFieldType> = T extends 'uint' | 'int'
  ? number
  : T extends 'time'
    ? Timespec
    : Uint8Array;
type Fields<K extends EventType> = (typeof EVENT_SCHEMA)[K]['fields'][number];

/** The event of type K, with its fields typed from the schema. */
export type EventOf<K extends EventType> = { type: K } & {
  -readonly [F in Fields<K> as F[0]]: ValueOf<F[1]>;
};
export type AnyEvent = { [K in EventType]: EventOf<K> }[EventType];
