/*
 * Inode records and their transitions.
 *
 * Each transition is a recipe over an immer draft of the decoded inode item: the fold drafts
 * the record, applies the recipes of its events, and writes the next record back only if
 * something changed. Times are the event's, never the clock's, so a replay produces the same
 * record.
 */

import { setAutoFreeze } from 'immer';
import type { Timespec } from '../events/event.js';
import type { InodeRecord } from '../format/item-schema.js';

export const S_IFMT = 0o170000;
export const S_IFDIR = 0o040000;
export const S_IFREG = 0o100000;
export const S_IFLNK = 0o120000;
export const DT_DIR = 4;

export const isDir = (mode: number) => (mode & S_IFMT) === S_IFDIR;
export const isReg = (mode: number) => (mode & S_IFMT) === S_IFREG;

export function newInode(
  e: { ino: number; mode: number; uid: number; gid: number; rdev: number; time: Timespec },
  seq: number,
): InodeRecord {
  const { sec, nsec } = e.time;
  return {
    ino: e.ino,
    mode: e.mode,
    uid: e.uid,
    gid: e.gid,
    rdev: e.rdev,
    nlink: isDir(e.mode) ? 2 : 0,
    size: 0,
    atimeSec: sec,
    atimeNsec: nsec,
    mtimeSec: sec,
    mtimeNsec: nsec,
    ctimeSec: sec,
    ctimeNsec: nsec,
    crtimeSec: sec,
    crtimeNsec: nsec,
    metaSeq: seq,
    dataSeq: isReg(e.mode) ? seq : 0,
    dataVersion: isReg(e.mode) ? 1 : 0,
    onlineBlocks: 0,
    offlineBlocks: 0,
    xattrs: 0,
  };
}

// records are never mutated outside a recipe; freezing each result only costs time
setAutoFreeze(false);

type Recipe = (draft: InodeRecord) => void;

export const setCtime =
  (t: Timespec): Recipe =>
  (d) => {
    d.ctimeSec = t.sec;
    d.ctimeNsec = t.nsec;
  };

export const setMtime =
  (t: Timespec): Recipe =>
  (d) => {
    d.mtimeSec = t.sec;
    d.mtimeNsec = t.nsec;
  };

export const setAtime =
  (t: Timespec): Recipe =>
  (d) => {
    d.atimeSec = t.sec;
    d.atimeNsec = t.nsec;
  };

export const set =
  (fields: Partial<InodeRecord>): Recipe =>
  (d) => {
    Object.assign(d, fields);
  };

export const add =
  (field: 'nlink' | 'onlineBlocks' | 'dataVersion' | 'xattrs', n: number): Recipe =>
  (d) => {
    d[field] += n;
  };

/** Apply several recipes in order as one transition. */
export const all =
  (...recipes: Recipe[]): Recipe =>
  (d) => {
    for (const r of recipes) r(d);
  };
