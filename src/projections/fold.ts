/*
 * The projection: each committed event, folded into item mutations.
 *
 * `needs(event)` names the items the fold will read; the wiring fetches them (asynchronously,
 * from the LSM) into an ItemView; `evolve(event, seq, view)` then computes the mutations
 * synchronously, with no IO and no clock. Every inode an event changes gets its meta_seq moved
 * to the transaction's seq, and for regular files whose contents or size changed, its
 * data_seq: the old (seq, ino) index item is deleted and the new one put, in the same set of
 * mutations as the change itself, so the change indexes can never disagree with the inodes.
 *
 * An event that contradicts the items (creating an inode that exists, unlinking a name that is
 * not there) means the log and the index disagree; it is EIO, never papered over.
 */

import { EIO } from '../errors.js';
import type { FsEvent } from '../events/event.js';
import { decodeInode, decodeItem, encodeInode, encodeItem, type InodeRecord } from '../format/item-schema.js';
import {
  allocKey,
  backrefKey,
  dataSeqKey,
  direntKey,
  encodeKey,
  extentKey,
  FS_TYPE,
  inodeCountKey,
  inodeKey,
  inodeReservationKey,
  metaSeqKey,
  orphanKey,
  readdirKey,
  symlinkKey,
  xattrKey,
  ZONE,
} from '../format/key.js';
import {
  add,
  all,
  DT_DIR,
  isReg,
  newInode,
  set,
  setAtime,
  setCtime,
  setMtime,
  transition,
} from './inode-record.js';
import type { ItemMutation, ItemView, KeyRange, Needs } from './item.js';

const EMPTY = Buffer.alloc(0);
const MAX_U64 = Number.MAX_SAFE_INTEGER;

/** Every item of one type of one inode, e.g. all its xattrs. */
export function inodeTypeRange(ino: number, type: number): KeyRange {
  return {
    first: encodeKey(ZONE.fs, ino, type, 0, 0),
    last: encodeKey(ZONE.fs, ino, type, MAX_U64, MAX_U64, Buffer.alloc(256, 0xff)),
  };
}

export function needs(e: FsEvent): Needs {
  switch (e.type) {
    case 'InodesReserved':
      return { keys: [], ranges: [] };
    case 'DirentAdded':
    case 'DirentRemoved':
      return { keys: [inodeKey(e.dir), inodeKey(e.ino), direntKey(e.dir, e.name)], ranges: [] };
    case 'ExtentUnmapped':
      return { keys: [inodeKey(e.ino), extentKey(e.ino, e.logical)], ranges: [] };
    case 'InodeCreated':
      return { keys: [inodeKey(e.ino), inodeCountKey()], ranges: [] };
    case 'InodeDeleted':
      return {
        keys: [inodeKey(e.ino), symlinkKey(e.ino), orphanKey(e.ino), inodeCountKey()],
        ranges: [inodeTypeRange(e.ino, FS_TYPE.xattr), inodeTypeRange(e.ino, FS_TYPE.extent)],
      };
    default:
      return { keys: [inodeKey(e.ino)], ranges: [] };
  }
}

export function evolve(e: FsEvent, seq: number, view: ItemView): ItemMutation[] {
  const c = new Changes(seq, view);
  switch (e.type) {
    case 'InodesReserved':
      c.put(inodeReservationKey(), encodeItem('reservation', { next: e.first + e.count }));
      break;
    case 'InodeCreated':
      if (view.get(inodeKey(e.ino))) throw EIO(`seq ${seq}: InodeCreated for existing inode ${e.ino}`);
      c.created(newInode(e, seq));
      c.count(1);
      break;
    case 'InodeModeChanged':
      c.meta(e.ino, all(set({ mode: e.mode }), setCtime(e.ctime)));
      break;
    case 'InodeOwnerChanged':
      c.meta(
        e.ino,
        all((d) => Object.assign(d, { uid: e.uid, gid: e.gid, mode: e.mode }), setCtime(e.ctime)),
      );
      break;
    case 'InodeTimesSet':
      c.meta(e.ino, all(setAtime(e.atime), setMtime(e.mtime), setCtime(e.ctime)));
      break;
    case 'DirentAdded': {
      if (view.get(direntKey(e.dir, e.name)))
        throw EIO(`seq ${seq}: DirentAdded over an existing name in dir ${e.dir}`);
      const dir = e.dtype === DT_DIR;
      c.put(direntKey(e.dir, e.name), encodeItem('dirent', { ino: e.ino, dtype: e.dtype, pos: e.pos }));
      c.put(readdirKey(e.dir, e.pos), encodeItem('readdir', { ino: e.ino, dtype: e.dtype, name: e.name }));
      c.put(backrefKey(e.ino, e.dir, e.pos, e.name), EMPTY);
      c.meta(e.dir, all(setMtime(e.time), setCtime(e.time), add('nlink', dir ? 1 : 0)));
      c.meta(e.ino, all(setCtime(e.time), add('nlink', dir ? 0 : 1)));
      break;
    }
    case 'DirentRemoved': {
      if (!view.get(direntKey(e.dir, e.name)))
        throw EIO(`seq ${seq}: DirentRemoved of a missing name in dir ${e.dir}`);
      const dir = e.dtype === DT_DIR;
      c.del(direntKey(e.dir, e.name));
      c.del(readdirKey(e.dir, e.pos));
      c.del(backrefKey(e.ino, e.dir, e.pos, e.name));
      c.meta(e.dir, all(setMtime(e.time), setCtime(e.time), add('nlink', dir ? -1 : 0)));
      c.meta(e.ino, all(setCtime(e.time), add('nlink', dir ? 0 : -1)));
      break;
    }
    case 'SymlinkTargetSet':
      c.put(symlinkKey(e.ino), Buffer.from(e.target));
      c.meta(e.ino, set({ size: e.target.length }));
      break;
    case 'XattrSet':
      c.put(xattrKey(e.ino, e.name), Buffer.from(e.value));
      c.meta(e.ino, setCtime(e.ctime));
      break;
    case 'XattrRemoved':
      c.del(xattrKey(e.ino, e.name));
      c.meta(e.ino, setCtime(e.ctime));
      break;
    case 'ExtentMapped':
      c.put(extentKey(e.ino, e.logical), encodeItem('extent', { physical: e.physical, count: e.count }));
      c.put(allocKey(e.physical), encodeItem('alloc', { ino: e.ino, logical: e.logical, count: e.count }));
      c.data(e.ino, add('onlineBlocks', e.count));
      break;
    case 'ExtentUnmapped':
      if (!view.get(extentKey(e.ino, e.logical))) throw EIO(`seq ${seq}: ExtentUnmapped of a missing extent`);
      c.del(extentKey(e.ino, e.logical));
      c.del(allocKey(e.physical));
      c.data(e.ino, add('onlineBlocks', -e.count));
      break;
    case 'DataWritten':
    case 'FileTruncated':
      c.data(e.ino, all(setMtime(e.time), setCtime(e.time), set({ size: e.size }), add('dataVersion', 1)));
      break;
    case 'OrphanAdded':
      c.inode(e.ino);
      c.put(orphanKey(e.ino), EMPTY);
      break;
    case 'InodeDeleted': {
      const rec = c.inode(e.ino);
      c.del(inodeKey(e.ino));
      c.count(-1);
      c.del(metaSeqKey(rec.metaSeq, e.ino));
      if (isReg(rec.mode)) c.del(dataSeqKey(rec.dataSeq, e.ino));
      for (const key of [symlinkKey(e.ino), orphanKey(e.ino)]) if (view.get(key)) c.del(key);
      if (view.keysIn(inodeTypeRange(e.ino, FS_TYPE.extent)).length > 0)
        throw EIO(`seq ${seq}: InodeDeleted of inode ${e.ino} that still maps extents`);
      for (const key of view.keysIn(inodeTypeRange(e.ino, FS_TYPE.xattr))) c.del(key);
      break;
    }
  }
  return c.mutations;
}

/** Collects one event's mutations; inode records are read once and written back once. */
class Changes {
  readonly mutations: ItemMutation[] = [];
  /** Records this event already wrote: an event can touch an inode twice (a dirent in itself). */
  private readonly records = new Map<number, InodeRecord>();

  constructor(
    private readonly seq: number,
    private readonly view: ItemView,
  ) {}

  put(key: Buffer, value: Buffer): void {
    this.mutations.push({ key, value });
  }

  del(key: Buffer): void {
    this.mutations.push({ key, value: null });
  }

  inode(ino: number): InodeRecord {
    const bytes = this.view.get(inodeKey(ino));
    if (!bytes) throw EIO(`seq ${this.seq}: event for missing inode ${ino}`);
    return decodeInode(bytes, `inode ${ino}`);
  }

  /** Move the volume's inode count. */
  count(delta: number): void {
    const bytes = this.view.get(inodeCountKey());
    const now = bytes ? (decodeItem('count', bytes, 'inode count').count as number) : 0;
    if (now + delta < 0) throw EIO(`seq ${this.seq}: inode count would go below zero`);
    this.put(inodeCountKey(), encodeItem('count', { count: now + delta }));
  }

  created(rec: InodeRecord): void {
    this.put(inodeKey(rec.ino), encodeInode(rec));
    this.put(metaSeqKey(this.seq, rec.ino), EMPTY);
    if (isReg(rec.mode)) this.put(dataSeqKey(this.seq, rec.ino), EMPTY);
  }

  /** A metadata change: apply the recipe and move the inode's meta_seq. */
  meta(ino: number, recipe: (d: InodeRecord) => void): void {
    this.update(ino, recipe, false);
  }

  /** A contents change: as meta, and move data_seq too for a regular file. */
  data(ino: number, recipe: (d: InodeRecord) => void): void {
    this.update(ino, recipe, true);
  }

  private update(ino: number, recipe: (d: InodeRecord) => void, data: boolean): void {
    const prev = this.records.get(ino) ?? this.inode(ino);
    const seq = this.seq;
    const next = transition(prev, (d) => {
      recipe(d);
      d.metaSeq = seq;
      if (data && isReg(d.mode)) d.dataSeq = seq;
    });
    if (prev.metaSeq !== seq) {
      this.del(metaSeqKey(prev.metaSeq, ino));
      this.put(metaSeqKey(seq, ino), EMPTY);
    }
    if (isReg(prev.mode) && prev.dataSeq !== next.dataSeq) {
      this.del(dataSeqKey(prev.dataSeq, ino));
      this.put(dataSeqKey(next.dataSeq, ino), EMPTY);
    }
    this.records.set(ino, next);
    this.put(inodeKey(ino), encodeInode(next));
  }
}
