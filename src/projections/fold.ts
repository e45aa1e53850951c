/*
 * The projection: committed events, folded into item mutations.
 *
 * `needs(event)` names the items the fold will read; the wiring fetches them (asynchronously,
 * from the LSM) into an ItemView; `evolve(events, seq, view)` then computes the mutations of a
 * batch of events of one transaction, in order, synchronously, with no IO and no clock. Each
 * event sees what the ones before it in the batch did (the batch keeps its own puts and
 * deletes over the view), so a batch folds to exactly what its events folded one by one would,
 * whatever the batch boundaries: live, one operation's events; in a replay, a transaction's.
 * An inode the batch changes is one immer draft for the whole batch, written back once.
 *
 * Every inode an event changes gets its meta_seq moved to the transaction's seq, and for
 * regular files whose contents or size changed, its data_seq: the old (seq, ino) index item is
 * deleted and the new one put, in the same set of mutations as the change itself, so the
 * change indexes can never disagree with the inodes.
 *
 * An event that contradicts the items (creating an inode that exists, unlinking a name that is
 * not there) means the log and the index disagree; it is EIO, never papered over.
 */

import { createDraft, type Draft, finishDraft } from 'immer';
import { EIO } from '../errors.js';
import type { FsEvent, Timespec } from '../events/event.js';
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
import { add, all, DT_DIR, isReg, newInode, set, setAtime, setCtime, setMtime } from './inode-record.js';
import type { ItemMutation, ItemView, KeyRange, Needs } from './item.js';

const EMPTY = Buffer.alloc(0);
const MAX_U64 = Number.MAX_SAFE_INTEGER;
/** Above every name: the tail of a range's last key (encodeKey copies it). */
const MAX_TAIL = Buffer.alloc(256, 0xff);

/** Every item of one type of one inode, e.g. all its xattrs. */
export function inodeTypeRange(ino: number, type: number): KeyRange {
  return {
    first: encodeKey(ZONE.fs, ino, type, 0, 0),
    last: encodeKey(ZONE.fs, ino, type, MAX_U64, MAX_U64, MAX_TAIL),
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
      return { keys: [inodeKey(e.ino), INODE_COUNT_KEY], ranges: [] };
    case 'InodeDeleted':
      // the xattr range is read only for an inode that has xattrs (the event says how many)
      return {
        keys: [inodeKey(e.ino), symlinkKey(e.ino), orphanKey(e.ino), INODE_COUNT_KEY],
        ranges: e.xattrs > 0 ? [inodeTypeRange(e.ino, FS_TYPE.xattr)] : [],
      };
    case 'XattrSet':
    case 'XattrRemoved':
      return { keys: [inodeKey(e.ino), xattrKey(e.ino, e.name)], ranges: [] };
    default:
      return { keys: [inodeKey(e.ino)], ranges: [] };
  }
}

/**
 * `records`, if given, gets every inode the batch read or changed as the batch leaves it (null:
 * deleted), so a caller can use the new records before the mutations are applied.
 */
export function evolve(
  events: readonly FsEvent[],
  seq: number,
  view: ItemView,
  records?: Map<number, InodeRecord | null>,
): ItemMutation[] {
  const c = new Changes(seq, view);
  for (const e of events) fold(e, seq, c);
  return c.finish(records);
}

function fold(e: FsEvent, seq: number, c: Changes): void {
  switch (e.type) {
    case 'InodesReserved':
      c.put(inodeReservationKey(), encodeItem('reservation', { next: e.first + e.count }));
      break;
    case 'InodeCreated':
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
      const name = direntKey(e.dir, e.name);
      if (c.get(name)) throw EIO(`seq ${seq}: DirentAdded over an existing name in dir ${e.dir}`);
      c.put(name, encodeItem('dirent', { ino: e.ino, dtype: e.dtype, pos: e.pos }));
      c.put(readdirKey(e.dir, e.pos), encodeItem('readdir', { ino: e.ino, dtype: e.dtype, name: e.name }));
      c.put(backrefKey(e.ino, e.dir, e.pos, e.name), EMPTY);
      linked(c, e, 1);
      break;
    }
    case 'DirentRemoved': {
      const name = direntKey(e.dir, e.name);
      if (!c.get(name)) throw EIO(`seq ${seq}: DirentRemoved of a missing name in dir ${e.dir}`);
      c.del(name);
      c.del(readdirKey(e.dir, e.pos));
      c.del(backrefKey(e.ino, e.dir, e.pos, e.name));
      linked(c, e, -1);
      break;
    }
    case 'SymlinkTargetSet':
      c.put(symlinkKey(e.ino), Buffer.from(e.target));
      c.meta(e.ino, set({ size: e.target.length }));
      break;
    case 'XattrSet': {
      // the inode counts its xattrs, so deleting it reads their range only when there are some
      const fresh = c.get(xattrKey(e.ino, e.name)) === null;
      c.put(xattrKey(e.ino, e.name), Buffer.from(e.value));
      c.meta(e.ino, fresh ? all(setCtime(e.ctime), add('xattrs', 1)) : setCtime(e.ctime));
      break;
    }
    case 'XattrRemoved':
      if (!c.get(xattrKey(e.ino, e.name))) throw EIO(`seq ${seq}: XattrRemoved of a missing xattr`);
      c.del(xattrKey(e.ino, e.name));
      c.meta(e.ino, all(setCtime(e.ctime), add('xattrs', -1)));
      break;
    case 'ExtentMapped':
      c.put(extentKey(e.ino, e.logical), encodeItem('extent', { physical: e.physical, count: e.count }));
      c.put(allocKey(e.physical), encodeItem('alloc', { ino: e.ino, logical: e.logical, count: e.count }));
      c.data(e.ino, add('onlineBlocks', e.count));
      break;
    case 'ExtentUnmapped':
      if (!c.get(extentKey(e.ino, e.logical))) throw EIO(`seq ${seq}: ExtentUnmapped of a missing extent`);
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
      // onlineBlocks is the sum of the inode's extents: ExtentMapped and ExtentUnmapped, the only
      // events that add or remove extent items, move it by their count, so it is 0 exactly when
      // none is left (a cheaper check than reading the extent range, which it replaced)
      const rec = c.inode(e.ino);
      if (rec.onlineBlocks !== 0)
        throw EIO(`seq ${seq}: InodeDeleted of inode ${e.ino} that still maps extents`);
      // the same holds for xattrs: the event's count, the record's and the items' must agree
      if (rec.xattrs !== e.xattrs)
        throw EIO(
          `seq ${seq}: InodeDeleted of inode ${e.ino} with ${e.xattrs} xattrs, the inode has ${rec.xattrs}`,
        );
      c.deleted(e.ino);
      c.count(-1);
      for (const key of [symlinkKey(e.ino), orphanKey(e.ino)]) if (c.get(key)) c.del(key);
      if (e.xattrs > 0) {
        const keys = c.xattrKeys(e.ino);
        if (keys.length !== e.xattrs)
          throw EIO(`seq ${seq}: inode ${e.ino} counts ${e.xattrs} xattrs, ${keys.length} items exist`);
        for (const key of keys) c.del(key);
      }
      break;
    }
  }
}

/**
 * A name added (+1) or removed (-1): the directory's times and the link count it moves. A
 * subdirectory's ".." links its parent; any other name links only its inode (no no-op nlink
 * writes: each is a proxy trap on the draft).
 */
function linked(c: Changes, e: { dir: number; ino: number; dtype: number; time: Timespec }, n: 1 | -1): void {
  if (e.dtype === DT_DIR) {
    c.meta(e.dir, all(setMtime(e.time), setCtime(e.time), add('nlink', n)));
    c.meta(e.ino, setCtime(e.time));
  } else {
    c.meta(e.dir, all(setMtime(e.time), setCtime(e.time)));
    c.meta(e.ino, all(setCtime(e.time), add('nlink', n)));
  }
}

/**
 * The last inode count a fold wrote, with its bytes: the next fold reads back that very Buffer
 * (by identity, never by contents) and skips decoding it.
 */
let lastCount: { bytes: Buffer | null; count: number } = { bytes: null, count: 0 };
const INODE_COUNT_KEY = inodeCountKey();

/** An inode as the batch has it: a draft of the record the view had, or a record it created. */
interface InodeState {
  /** The current record: an immer draft of `base`, or a record the batch created (ours alone). */
  rec: Draft<InodeRecord> | InodeRecord;
  /** The view's record, or null for an inode the batch created. */
  base: InodeRecord | null;
  /** Deleted by this batch. */
  gone: boolean;
  /**
   * The record's seqs and whether it is a regular file (the type bits never change), kept
   * beside the draft: read through the draft, each would be a proxy trap.
   */
  metaSeq: number;
  dataSeq: number;
  reg: boolean;
}

/** The state of `rec`: a draft of it when the view has it, else (created by the batch) itself. */
function inodeState(rec: InodeRecord, fromView: boolean): InodeState {
  return {
    rec: fromView ? createDraft(rec) : rec,
    base: fromView ? rec : null,
    gone: false,
    metaSeq: rec.metaSeq,
    dataSeq: rec.dataSeq,
    reg: isReg(rec.mode),
  };
}

/**
 * One batch's mutations, with what the batch did so far laid over the view: every item it put
 * or deleted reads as the batch left it. Inode records stay decoded (drafts) until `finish`,
 * which writes each changed inode once.
 */
class Changes {
  /** Puts and deletes by key (latin1), in the order first touched; the last one of a key wins. */
  private readonly pending = new Map<string, ItemMutation>();
  /** Pending xattr keys, by inode: what `xattrKeys` lays over the view. */
  private readonly pendingXattrs = new Map<number, Buffer[]>();
  private readonly inodes = new Map<number, InodeState>();
  private inodeCount: number | null = null;

  constructor(
    private readonly seq: number,
    private readonly view: ItemView,
  ) {}

  get(key: Buffer): Buffer | null {
    const id = key.toString('latin1');
    const p = this.pending.get(id);
    return p !== undefined ? p.value : this.view.getById(id);
  }

  /** The keys of an inode's xattrs, as the batch left them. */
  xattrKeys(ino: number): Buffer[] {
    const range = inodeTypeRange(ino, FS_TYPE.xattr);
    const base = this.view.keysIn(range);
    const touched = this.pendingXattrs.get(ino);
    if (!touched) return base;
    const live = new Map<string, Buffer>();
    for (const k of base) live.set(k.toString('latin1'), k);
    for (const k of touched) {
      if (k.compare(range.first) < 0 || k.compare(range.last) > 0) continue;
      const s = k.toString('latin1');
      if (this.pending.get(s)!.value === null) live.delete(s);
      else live.set(s, k);
    }
    return [...live.values()].sort(Buffer.compare);
  }

  put(key: Buffer, value: Buffer | null): void {
    const id = key.toString('latin1');
    const p = this.pending.get(id);
    if (p !== undefined) {
      p.value = value;
      return;
    }
    if (key[0] === ZONE.fs && key[9] === FS_TYPE.xattr) {
      const ino = inodeOfFsKey(key);
      const list = this.pendingXattrs.get(ino);
      if (list) list.push(key);
      else this.pendingXattrs.set(ino, [key]);
    }
    this.pending.set(id, { key, value, id });
  }

  del(key: Buffer): void {
    this.put(key, null);
  }

  /** The inode's current record; EIO when it does not exist (as the batch left it). */
  inode(ino: number): InodeRecord {
    return this.state(ino).rec;
  }

  /** Move the volume's inode count. */
  count(delta: number): void {
    if (this.inodeCount === null) {
      const bytes = this.view.get(INODE_COUNT_KEY);
      if (bytes && bytes === lastCount.bytes) this.inodeCount = lastCount.count;
      else this.inodeCount = bytes ? (decodeItem('count', bytes, 'inode count').count as number) : 0;
    }
    const now = this.inodeCount + delta;
    if (now < 0) throw EIO(`seq ${this.seq}: inode count would go below zero`);
    this.inodeCount = now;
    const bytes = encodeItem('count', { count: now });
    lastCount = { bytes, count: now };
    this.put(INODE_COUNT_KEY, bytes);
  }

  created(rec: InodeRecord): void {
    const had = this.inodes.get(rec.ino);
    if (had ? !had.gone : this.view.get(inodeKey(rec.ino)))
      throw EIO(`seq ${this.seq}: InodeCreated for existing inode ${rec.ino}`);
    const s = inodeState(rec, false);
    this.inodes.set(rec.ino, s);
    this.put(metaSeqKey(this.seq, rec.ino), EMPTY);
    if (s.reg) this.put(dataSeqKey(this.seq, rec.ino), EMPTY);
  }

  deleted(ino: number): void {
    const s = this.state(ino);
    this.del(inodeKey(ino));
    this.del(metaSeqKey(s.metaSeq, ino));
    if (s.reg) this.del(dataSeqKey(s.dataSeq, ino));
    s.gone = true;
  }

  /** A metadata change: apply the recipe and move the inode's meta_seq. */
  meta(ino: number, recipe: (d: InodeRecord) => void): void {
    this.update(ino, recipe, false);
  }

  /** A contents change: as meta, and move data_seq too for a regular file. */
  data(ino: number, recipe: (d: InodeRecord) => void): void {
    this.update(ino, recipe, true);
  }

  /** The batch's mutations, each changed inode written once (and given to `records`). */
  finish(records?: Map<number, InodeRecord | null>): ItemMutation[] {
    for (const [ino, s] of this.inodes) {
      if (s.gone) {
        records?.set(ino, null);
        continue;
      }
      const rec = s.base ? finishDraft(s.rec as Draft<InodeRecord>) : s.rec;
      records?.set(ino, rec);
      if (rec === s.base) continue; // only read
      this.put(inodeKey(ino), encodeInode(rec));
    }
    return [...this.pending.values()];
  }

  private state(ino: number): InodeState {
    let s = this.inodes.get(ino);
    if (!s) {
      const bytes = this.view.get(inodeKey(ino));
      if (!bytes) throw EIO(`seq ${this.seq}: event for missing inode ${ino}`);
      s = inodeState(decodeInode(bytes, `inode ${ino}`), true);
      this.inodes.set(ino, s);
    }
    if (s.gone) throw EIO(`seq ${this.seq}: event for deleted inode ${ino}`);
    return s;
  }

  private update(ino: number, recipe: (d: InodeRecord) => void, data: boolean): void {
    const s = this.state(ino);
    const d = s.rec;
    const seq = this.seq;
    recipe(d);
    if (s.metaSeq !== seq) {
      this.del(metaSeqKey(s.metaSeq, ino));
      this.put(metaSeqKey(seq, ino), EMPTY);
      d.metaSeq = s.metaSeq = seq;
    }
    if (data && s.reg && s.dataSeq !== seq) {
      this.del(dataSeqKey(s.dataSeq, ino));
      this.put(dataSeqKey(seq, ino), EMPTY);
      d.dataSeq = s.dataSeq = seq;
    }
  }
}

/** The inode number (field a) of a key in the fs zone. */
function inodeOfFsKey(key: Buffer): number {
  return key.readUInt32BE(1) * 2 ** 32 + key.readUInt32BE(5);
}
