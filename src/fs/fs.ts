/*
 * The filesystem: POSIX operations as decisions over the items, recorded as events.
 *
 * Every mutation runs the same way (see `mutate`): under the exclusive item lock it reads what
 * it needs, decides (an FsError with the POSIX code, or events), appends the events to this
 * node's open transaction, answers, and folds them into the index with that transaction's seq
 * before it lets go of the lock, so the next operation reads the change. Durability is the
 * log's: a commit (fsync, the commit timer, `sync`) makes every appended event durable at once.
 * Reads share the lock and go to the index.
 *
 * Inode numbers come from reservations recorded as InodesReserved events; data blocks from
 * the data space, written before the events that map them are written (the log writer's data
 * barrier); freed blocks are reused only after the freeing transaction is durable.
 *
 * The FUSE binding is path based, so paths are resolved through directory items with a cache
 * that every unlink, rmdir and rename keeps right (path-cache.ts). Paths and names are byte
 * strings (one character per byte). An unlink of a file that is still open leaves it an orphan
 * until the last close (open-files.ts); a crash before that leaves it to be reclaimed at the
 * next mount. (With a stock binding, libfuse renames such a file to a ".fuse_hidden..." name
 * instead; that rename marks the inode an orphan the same way.)
 */

import type { BlockDevice } from '../device/device.js';
import { EEXIST, EIO, ENOENT, FsError } from '../errors.js';
import { type FsEvent, inodesOf, type Timespec } from '../events/event.js';
import type { LogWriter } from '../events/log-writer.js';
import type { InodeRecord } from '../format/item-schema.js';
import { LIMITS, type Superblock } from '../format/layout.js';
import {
  DT_DIR,
  isDir,
  isReg,
  newInode,
  S_IFDIR,
  S_IFLNK,
  S_IFMT,
  S_IFREG,
} from '../projections/inode-record.js';
import type { AttrMirror } from './attr-mirror.js';
import { Change, type StepFn } from './change.js';
import { now } from './clock.js';
import type { DataSpace } from './data-space.js';
import { FileData, UNMAP_BATCH } from './file-data.js';
import { FsItems, type ItemSource } from './fs-items.js';
import { ListingCache } from './listing-cache.js';
import { byteString, bytesOf, nameBytes, shown, splitPath } from './names.js';
import type { OffloadedReads } from './offloaded-reads.js';
import { OpenFiles } from './open-files.js';
import { PathCache } from './path-cache.js';
import { RwLock } from './rw-lock.js';
import { COLLECT_EVERY_MS, type WriteWindowBinding, WriteWindows } from './write-windows.js';

const INODE_BATCH = 1024;
const S_ISUID = 0o4000;
const S_ISGID = 0o2000;
const HIDDEN_NAME = /^\.fuse_hidden[0-9a-f]{8,}$/;
export const MAX_FILE_BYTES = 2 ** 50;
const XATTR_CREATE = 1;
const XATTR_REPLACE = 2;
const XATTR_NAMESPACES = ['user.', 'trusted.', 'security.', 'system.'];

export interface FsDeps {
  sb: Superblock;
  dev: BlockDevice;
  items: ItemSource;
  writer: LogWriter;
  space: DataSpace;
  /** Fold one append's events into the index at its seq. */
  /** `beforeApply`: the inode records the fold leaves, just before they go into the index. */
  fold(
    events: FsEvent[],
    seq: number,
    beforeApply?: (records: Map<number, InodeRecord | null>) => void,
  ): Promise<void>;
  /** First inode number not yet reserved by anyone. */
  nextIno: number;
  /** Highest seq folded at mount: readdir positions start above every earlier one. */
  lastSeq: number;
  /** Called before each mutation takes the lock; the mount uses it to checkpoint and to stall writers. */
  beforeMutation?: () => Promise<void>;
}

export interface Caller {
  uid: number;
  gid: number;
}

export class Fs {
  readonly items: FsItems;
  private readonly data: FileData;
  /** Where reads are handed off to, if anywhere (handsOffReads). */
  private offloaded: OffloadedReads | null = null;
  /** A copy of attributes kept outside, if any (handsOffAttrs). */
  private attrs: AttrMirror | null = null;
  /** Sequential writers' windows, written by someone else (handsOffWrites), if any. */
  private wins: WriteWindows | null = null;
  private collectTimer: NodeJS.Timeout | null = null;
  private readonly lock = new RwLock();
  private readonly paths: PathCache;
  private readonly listings = new ListingCache();
  private nextIno: number;
  private reservedEnd: number;
  private lastPos = 0;
  private seqNow: number;
  private broken: Error | null = null;
  private readonly open = new OpenFiles();

  constructor(private readonly d: FsDeps) {
    this.items = new FsItems(d.items);
    this.paths = new PathCache(this.items, d.sb.rootIno);
    this.data = new FileData(this.items, d.dev, d.space, d.writer);
    this.nextIno = d.nextIno;
    this.reservedEnd = d.nextIno;
    this.seqNow = d.lastSeq;
  }

  get sb(): Superblock {
    return this.d.sb;
  }

  get rootIno(): number {
    return this.d.sb.rootIno;
  }

  /** The data barrier: run by the log writer before it writes records. */
  dataBarrier(): Promise<void> {
    return this.data.barrier();
  }

  // --- paths -----------------------------------------------------------------------------

  async resolve(path: string): Promise<number> {
    return this.reading(() => this.paths.resolve(path));
  }

  /**
   * The record of the inode at `path`, when it can be known at once: no mutation holds or
   * waits for the lock, and the path cache and the items in memory tell (PathCache.now). null:
   * there is no such name. undefined: ask `resolve` and `getattr`, which also give the errors
   * of an unusual path. (FUSE lookups come here first: most are answered without a promise.)
   */
  statNow(path: string): InodeRecord | null | undefined {
    const rec = this.recordNow(path);
    // a file a write window writes has a size and times only a collect makes true
    if (rec && this.windowed(rec.ino)) return undefined;
    return rec;
  }

  /** Whether a write window writes inode `ino` (its size and extents move without JS). */
  private windowed(ino: number): boolean {
    return this.wins !== null && this.wins.open > 0 && this.wins.writes(ino);
  }

  private recordNow(path: string): InodeRecord | null | undefined {
    if (this.broken || !this.lock.quiet) return undefined;
    const ino = this.paths.now(path);
    if (ino === null || ino === undefined) return ino;
    return this.items.inodeNow(ino) ?? undefined;
  }

  /**
   * Whether the inode at `path` has no xattrs at all, when that can be known at once (as
   * statNow: null for no such name, undefined for the slow path). The inode counts its xattrs,
   * so a getxattr or listxattr of a file with none needs no lookup of the xattr items: the
   * kernel asks for security.capability before every write(2), and `ls -l` for ACLs.
   */
  xattrlessNow(path: string): boolean | null | undefined {
    // (a write window moves no xattr count: the kernel's getxattr before each write(2) of a
    // windowed file is answered here too)
    const rec = this.recordNow(path);
    return rec === null || rec === undefined ? rec : rec.xattrs === 0;
  }

  // --- reads -----------------------------------------------------------------------------

  async getattr(ino: number): Promise<InodeRecord> {
    return this.reading(() => this.inodeOf(ino));
  }

  /**
   * The record of the inode at `path`, the path resolved and the record read under one hold of
   * the lock; `seen` runs under it too, so nothing can change between the read and `seen`.
   */
  async statPath(path: string, seen?: (r: InodeRecord) => void): Promise<InodeRecord> {
    return this.reading(async () => {
      const rec = await this.inodeOf(await this.paths.resolve(path));
      seen?.(rec);
      return rec;
    });
  }

  async readdir(ino: number): Promise<{ name: Buffer; ino: number; dtype: number }[]> {
    return this.reading(async () => {
      const dir = await this.inodeOf(ino);
      if (!isDir(dir.mode)) throw new FsError('ENOTDIR', `inode ${ino} is not a directory`);
      const cached = this.listings.get(ino);
      if (cached) return cached;
      const list = await this.items.readdir(ino);
      this.listings.set(ino, list);
      return list;
    });
  }

  async readlink(ino: number): Promise<Buffer> {
    return this.reading(async () => {
      const rec = await this.inodeOf(ino);
      if ((rec.mode & S_IFMT) !== S_IFLNK) throw new FsError('EINVAL', `inode ${ino} is not a symlink`);
      const t = await this.items.symlink(ino);
      if (!t) throw EIO(`symlink ${ino} has no target item`);
      return t;
    });
  }

  async getxattr(ino: number, name: string): Promise<Buffer> {
    return this.reading(async () => {
      await this.inodeOf(ino);
      const v = await this.items.xattr(ino, xattrName(name));
      if (!v) throw new FsError('ENODATA', `inode ${ino} has no xattr "${name}"`);
      return v;
    });
  }

  async listxattr(ino: number): Promise<string[]> {
    return this.reading(async () => {
      await this.inodeOf(ino);
      return (await this.items.xattrNames(ino)).map(byteString);
    });
  }

  /** Paths that link an inode, as byte strings, found through its backrefs (for ino-path). */
  async inoPaths(ino: number, limit = 16): Promise<string[]> {
    return this.reading(async () => {
      await this.inodeOf(ino);
      if (ino === this.rootIno) return ['/'];
      const out: string[] = [];
      for (const b of await this.items.backrefs(ino)) {
        const parent = await this.pathOfDir(b.dir);
        out.push(`${parent === '/' ? '' : parent}/${byteString(b.name)}`);
        if (out.length >= limit) break;
      }
      return out;
    });
  }

  /** Up to `length` bytes at `offset`; into `into` when given (see FileData.read). */
  async read(ino: number, offset: number, length: number, into?: Buffer): Promise<Buffer> {
    return this.reading(async () => {
      const rec = await this.inodeOf(ino);
      if (isDir(rec.mode)) throw new FsError('EISDIR', `inode ${ino} is a directory`);
      return this.data.read(ino, rec.size, offset, length, into);
    });
  }

  /** A descriptor for reading the device on another thread (BlockDevice.descriptor). */
  get deviceDescriptor(): number | undefined {
    return this.d.dev.descriptor;
  }

  /**
   * Reads are handed off to `reads`: no freed block is reused while one may still read it, and
   * every change moves `reads` to a new generation before it is made.
   */
  handsOffReads(reads: OffloadedReads): void {
    this.d.space.gateOn(reads);
    this.offloaded = reads;
  }

  /**
   * Attributes are copied to `attrs`, which may answer getattr on its own: every change tells it
   * what it makes stale before the change can be seen, and what it holds is refreshed after.
   */
  handsOffAttrs(attrs: AttrMirror): void {
    this.attrs = attrs;
    this.paths.mirror = attrs;
  }

  /**
   * A read whose device bytes the reader given to `handsOffReads` reads (FileData.plan): the
   * byte count, holes zeroed in `into`, the device pieces (maybe none) and the read's window,
   * or null pieces when this has read them itself. With pieces, the read is handed off before
   * the lock is let go (`epoch` is what to answer it with), so no block it reads can be reused
   * before the reader says the read is over, and the window carries the generation it is true in.
   */
  async readPlan(
    ino: number,
    offset: number,
    length: number,
    into: Buffer,
    maxPieces: number,
  ): Promise<{ bytes: number; pieces: Float64Array | null; window: Float64Array | null; epoch: number }> {
    const reads = this.offloaded;
    if (!reads) throw new RangeError('readPlan without a reader to hand reads to (handsOffReads)');
    return this.reading(async () => {
      const rec = await this.inodeOf(ino);
      if (isDir(rec.mode)) throw new FsError('EISDIR', `inode ${ino} is a directory`);
      const plan = await this.data.plan(ino, rec.size, offset, length, into, maxPieces, reads.generation);
      // a file a write window writes changes without a new generation: no read window for it
      if (this.windowed(ino)) plan.window = null;
      return { ...plan, epoch: plan.pieces ? reads.handOff() : -1 };
    });
  }

  /**
   * Writes are handed off to the binding's threads through write windows (write-windows.ts):
   * every read of the filesystem's state collects what they wrote first, every change closes
   * them first. Needs the device's descriptor; false without one.
   */
  handsOffWrites(binding: () => WriteWindowBinding | null): boolean {
    const fd = this.d.dev.descriptor;
    if (fd === undefined) return false;
    this.wins = new WriteWindows(binding, fd, MAX_FILE_BYTES, this.items, this.data, this.d.space);
    return true;
  }

  /**
   * Called once a change is folded: the FUSE layer's moment to poll for the next request
   * (request-poll.ts) instead of sleeping, if nothing else holds or waits for the items (`idle`).
   */
  onSettled: (() => void) | null = null;

  /** Nothing holds or waits for the items: no operation is in flight in here. */
  get idle(): boolean {
    return this.lock.idle;
  }

  /** Writes the binding answered from write windows. */
  get windowWrites(): number {
    return this.wins?.stats() ?? 0;
  }

  /** Collect and close every write window and open no more (before the last commit). */
  async stopWrites(): Promise<void> {
    const wins = this.wins;
    if (!wins) return;
    await this.lock.exclusive(async () => {
      if (wins.open > 0 && !this.broken) await this.collectLocked(true);
      wins.stop();
    });
  }

  /** Used and free counts for statfs. */
  async usage(): Promise<{ inodes: number; freeBlocks: number; totalBlocks: number }> {
    return this.reading(async () => ({
      inodes: await this.items.inodeCount(),
      // what write windows hold but did not write is free: the next change gives it back
      freeBlocks: this.d.space.freeBlocks + (this.wins?.held() ?? 0),
      totalBlocks: this.d.space.blocks,
    }));
  }

  // --- namespace mutations -----------------------------------------------------------------

  /** mknod, mkdir, create and symlink: a new inode linked at `path`. */
  async create(
    path: string,
    mode: number,
    who: Caller,
    o: { rdev?: number; symlink?: Buffer } = {},
  ): Promise<number> {
    return (await this.createInode(path, mode, who, o)).ino;
  }

  /**
   * As create, answering with the new inode's record as the fold of its events makes it (a
   * FUSE create answers with the attributes), without waiting for that fold.
   */
  async createInode(
    path: string,
    mode: number,
    who: Caller,
    o: { rdev?: number; symlink?: Buffer } = {},
  ): Promise<InodeRecord> {
    const { parent, name } = splitPath(path);
    const bytes = nameBytes(name);
    if (o.symlink && o.symlink.length > LIMITS.symlinkMax) {
      throw new FsError('ENAMETOOLONG', `symlink target of ${o.symlink.length} bytes`);
    }
    const made = await this.mutate(async (c) => {
      const dirIno = await this.paths.resolve(parent);
      const dir = await this.dirOf(dirIno);
      if (await this.items.lookup(dirIno, bytes)) throw EEXIST(`${path} exists`);
      const ino = this.newIno(c);
      const time = now();
      let gid = who.gid;
      let m = mode;
      if (dir.mode & S_ISGID) {
        gid = dir.gid;
        if (isDir(mode)) m |= S_ISGID;
      }
      const created = {
        type: 'InodeCreated',
        ino,
        mode: m,
        uid: who.uid,
        gid,
        rdev: o.rdev ?? 0,
        time,
      } as const;
      c.events.push(created);
      if (o.symlink) c.events.push({ type: 'SymlinkTargetSet', ino, target: o.symlink });
      const pos = await this.newPos(dirIno);
      c.events.push({ type: 'DirentAdded', dir: dirIno, name: bytes, ino, dtype: dtypeOf(m), pos, time });
      this.paths.added(path, ino, isDir(m));
      return { c, created };
    }, []);
    // the fold: the new record, linked once (a directory counts its "." too), at the same time
    const rec = newInode(made.created, made.c.seq);
    rec.nlink = isDir(rec.mode) ? 2 : 1;
    if (o.symlink) rec.size = o.symlink.length;
    return rec;
  }

  async link(target: string, path: string): Promise<void> {
    const { parent, name } = splitPath(path);
    const bytes = nameBytes(name);
    await this.mutate(async (c) => {
      const ino = await this.paths.resolve(target);
      const rec = await this.inodeOf(ino);
      if (isDir(rec.mode)) throw new FsError('EPERM', `${target} is a directory`);
      const dirIno = await this.paths.resolve(parent);
      await this.dirOf(dirIno);
      if (await this.items.lookup(dirIno, bytes)) throw EEXIST(`${path} exists`);
      const pos = await this.newPos(dirIno);
      c.events.push({
        type: 'DirentAdded',
        dir: dirIno,
        name: bytes,
        ino,
        dtype: dtypeOf(rec.mode),
        pos,
        time: now(),
      });
      this.paths.added(path, ino);
    });
  }

  async unlink(path: string): Promise<void> {
    await this.remove(path, false);
  }

  async rmdir(path: string): Promise<void> {
    await this.remove(path, true);
  }

  private async remove(path: string, wantDir: boolean): Promise<void> {
    const { parent, name } = splitPath(path);
    const bytes = nameBytes(name);
    await this.mutate(async (c) => {
      const dirIno = await this.paths.resolve(parent);
      await this.dirOf(dirIno);
      const d = await this.items.lookup(dirIno, bytes);
      if (!d) throw ENOENT(`${path}: no such file or directory`);
      const rec = await this.inodeOf(d.ino);
      if (wantDir && !isDir(rec.mode)) throw new FsError('ENOTDIR', `${path} is not a directory`);
      if (!wantDir && isDir(rec.mode)) throw new FsError('EISDIR', `${path} is a directory`);
      if (wantDir && !(await this.items.isEmptyDir(d.ino)))
        throw new FsError('ENOTEMPTY', `${path} is not empty`);
      const time = now();
      c.events.push({
        type: 'DirentRemoved',
        dir: dirIno,
        name: bytes,
        ino: d.ino,
        dtype: d.dtype,
        pos: d.pos,
        time,
      });
      this.paths.forget(path, isDir(rec.mode));
      await this.dropLink(c, rec);
    });
  }

  /** rename(2) without flags, in all its cases. */
  async rename(from: string, to: string): Promise<void> {
    const src = splitPath(from);
    const dst = splitPath(to);
    const srcName = nameBytes(src.name);
    const dstName = nameBytes(dst.name);
    await this.mutate(async (c) => {
      const srcDir = await this.paths.resolve(src.parent);
      await this.dirOf(srcDir);
      const dstDir = await this.paths.resolve(dst.parent);
      await this.dirOf(dstDir);
      const s = await this.items.lookup(srcDir, srcName);
      if (!s) throw ENOENT(`${from}: no such file or directory`);
      const moving = await this.inodeOf(s.ino);
      const t = await this.items.lookup(dstDir, dstName);
      if (t && t.ino === s.ino) return; // both names link the same inode: nothing to do
      if (isDir(moving.mode) && (await this.isAncestor(s.ino, dstDir))) {
        throw new FsError('EINVAL', `cannot move ${from} into itself (${to})`);
      }
      const time = now();
      let target: InodeRecord | null = null;
      if (t) {
        target = await this.inodeOf(t.ino);
        if (isDir(moving.mode) && !isDir(target.mode))
          throw new FsError('ENOTDIR', `${to} is not a directory`);
        if (!isDir(moving.mode) && isDir(target.mode)) throw new FsError('EISDIR', `${to} is a directory`);
        if (isDir(target.mode) && !(await this.items.isEmptyDir(t.ino))) {
          throw new FsError('ENOTEMPTY', `${to} is not empty`);
        }
        c.events.push({
          type: 'DirentRemoved',
          dir: dstDir,
          name: dstName,
          ino: t.ino,
          dtype: t.dtype,
          pos: t.pos,
          time,
        });
      }
      c.events.push({
        type: 'DirentRemoved',
        dir: srcDir,
        name: srcName,
        ino: s.ino,
        dtype: s.dtype,
        pos: s.pos,
        time,
      });
      const pos = await this.newPos(dstDir);
      c.events.push({
        type: 'DirentAdded',
        dir: dstDir,
        name: dstName,
        ino: s.ino,
        dtype: s.dtype,
        pos,
        time,
      });
      if (HIDDEN_NAME.test(dst.name) && moving.nlink === 1 && !(await this.items.isOrphan(s.ino))) {
        c.events.push({ type: 'OrphanAdded', ino: s.ino });
        this.open.lostName(s.ino);
      }
      this.paths.forget(from, isDir(moving.mode));
      this.paths.forget(to, target !== null && isDir(target.mode));
      this.paths.added(to, s.ino);
      if (target) await this.dropLink(c, target);
    });
  }

  // --- attribute mutations -----------------------------------------------------------------

  async chmod(ino: number, mode: number): Promise<void> {
    await this.mutateInode(ino, async (c) => {
      const rec = await this.inodeOf(ino);
      c.events.push({
        type: 'InodeModeChanged',
        ino,
        mode: (rec.mode & S_IFMT) | (mode & 0o7777),
        ctime: now(),
      });
    });
  }

  /** chown; -1 (as 0xffffffff) leaves that id alone. The kernel clears setuid/setgid itself. */
  async chown(ino: number, uid: number, gid: number): Promise<void> {
    await this.mutateInode(ino, async (c) => {
      const rec = await this.inodeOf(ino);
      c.events.push({
        type: 'InodeOwnerChanged',
        ino,
        uid: uid === 0xffffffff || uid === -1 ? rec.uid : uid,
        gid: gid === 0xffffffff || gid === -1 ? rec.gid : gid,
        mode: rec.mode,
        ctime: now(),
      });
    });
  }

  /** utimensat; `null` leaves that time alone, 'now' sets it to the current time. */
  async utimens(ino: number, atime: Timespec | 'now' | null, mtime: Timespec | 'now' | null): Promise<void> {
    await this.mutateInode(ino, async (c) => {
      const rec = await this.inodeOf(ino);
      const t = now();
      const pick = (v: Timespec | 'now' | null, sec: number, nsec: number) =>
        v === 'now' ? t : v === null ? { sec, nsec } : v;
      c.events.push({
        type: 'InodeTimesSet',
        ino,
        atime: pick(atime, rec.atimeSec, rec.atimeNsec),
        mtime: pick(mtime, rec.mtimeSec, rec.mtimeNsec),
        ctime: t,
      });
    });
  }

  async setxattr(ino: number, name: string, value: Buffer, flags: number): Promise<void> {
    const key = xattrName(name);
    if (value.length > LIMITS.xattrSizeMax) {
      throw new FsError('E2BIG', `xattr value of ${value.length} bytes; the limit is ${LIMITS.xattrSizeMax}`);
    }
    await this.mutateInode(ino, async (c) => {
      await this.inodeOf(ino);
      const exists = (await this.items.xattr(ino, key)) !== null;
      if (flags & XATTR_CREATE && exists) throw EEXIST(`xattr "${name}" exists`);
      if (flags & XATTR_REPLACE && !exists) throw new FsError('ENODATA', `no xattr "${name}"`);
      c.events.push({ type: 'XattrSet', ino, name: key, value, ctime: now() });
    });
  }

  async removexattr(ino: number, name: string): Promise<void> {
    const key = xattrName(name);
    await this.mutateInode(ino, async (c) => {
      await this.inodeOf(ino);
      if (!(await this.items.xattr(ino, key))) throw new FsError('ENODATA', `no xattr "${name}"`);
      c.events.push({ type: 'XattrRemoved', ino, name: key, ctime: now() });
    });
  }

  // --- file data -----------------------------------------------------------------------------

  /**
   * `fh`: the open handle the write came through; a write that leaves the file ending on a
   * block boundary gives it a write window for the writes after it (handsOffWrites).
   */
  async write(ino: number, offset: number, data: Buffer, fh?: number): Promise<number> {
    if (data.length === 0) return 0;
    const end = offset + data.length;
    if (end > MAX_FILE_BYTES) throw new FsError('EFBIG', `write past ${MAX_FILE_BYTES} bytes`);
    return this.mutateInode(ino, async (c) => {
      const rec = await this.inodeOf(ino);
      if (!isReg(rec.mode)) throw new FsError('EINVAL', `inode ${ino} is not a regular file`);
      await this.data.write(c, ino, rec.size, offset, data, this.step);
      c.events.push({
        type: 'DataWritten',
        ino,
        offset,
        length: data.length,
        size: Math.max(rec.size, end),
        time: now(),
      });
      if (fh !== undefined && this.wins && end >= rec.size) {
        const open = this.wins.reserve(c, fh, ino, end);
        if (open)
          c.afterAppend.push(() => {
            open();
            this.collectOnTimer();
          });
      }
      return data.length;
    });
  }

  async truncate(ino: number, size: number): Promise<void> {
    if (size < 0) throw new FsError('EINVAL', `negative size ${size}`);
    if (size > MAX_FILE_BYTES) throw new FsError('EFBIG', `size past ${MAX_FILE_BYTES} bytes`);
    await this.mutateInode(ino, async (c) => {
      const rec = await this.inodeOf(ino);
      if (isDir(rec.mode)) throw new FsError('EISDIR', `inode ${ino} is a directory`);
      if (!isReg(rec.mode)) throw new FsError('EINVAL', `inode ${ino} is not a regular file`);
      await this.data.truncate(c, ino, rec.size, size, this.step);
      c.events.push({ type: 'FileTruncated', ino, size, time: now() });
    });
  }

  // --- handles and durability ---------------------------------------------------------------

  opened(ino: number): void {
    this.open.opened(ino);
  }

  /** The last close of an inode whose last name is gone deletes it. `fh`: the handle closed. */
  async released(ino: number, fh?: number): Promise<void> {
    if (fh !== undefined && this.wins) {
      if (this.wins.has(fh)) await this.collect(true, (w) => w.fh === fh);
      this.wins.released(fh);
    }
    // the common close: no name of the file went away while it was open, nothing to decide
    if (!this.open.closed(ino)) return;
    await this.mutateInode(ino, async (c) => {
      const rec = await this.items.inode(ino);
      if (rec && rec.nlink === 0 && !isDir(rec.mode)) await this.deleteInode(c, rec);
    });
  }

  /** Make everything appended so far durable; resolves with the last durable seq. */
  async commit(): Promise<number> {
    this.checkUsable();
    // what write windows wrote goes into this commit
    if (this.wins?.open) await this.collect(false);
    await this.settled();
    // a fold that failed while we waited: its events must not be reported durable and fine
    this.checkUsable();
    return this.d.writer.commit();
  }

  /** Resolves once every mutation answered so far is folded into the index. */
  settled(): Promise<void> {
    return this.lock.shared(async () => {});
  }

  /** Delete every orphan left by a crash; run once at mount. */
  async reclaimOrphans(): Promise<number> {
    const orphans = await this.lock.shared(() => this.items.orphans());
    for (const ino of orphans) {
      await this.mutate(async (c) => {
        const rec = await this.items.inode(ino);
        if (!rec) return;
        const time = now();
        let links = rec.nlink;
        for (const b of await this.items.backrefs(ino)) {
          const d = await this.items.lookup(b.dir, b.name);
          if (!d) throw EIO(`backref of inode ${ino} names a missing dirent in ${b.dir}`);
          c.events.push({
            type: 'DirentRemoved',
            dir: b.dir,
            name: b.name,
            ino,
            dtype: d.dtype,
            pos: d.pos,
            time,
          });
          links -= 1;
        }
        this.paths.clear();
        if (links !== 0) throw EIO(`orphan ${ino} has nlink ${rec.nlink} but other backrefs`);
        await this.deleteInode(c, { ...rec, nlink: 0 });
      });
    }
    return orphans.length;
  }

  /** Run `fn` with no mutation or read in flight (checkpoints, unmount). */
  quiesced<T>(fn: () => Promise<T>): Promise<T> {
    return this.lock.exclusive(fn);
  }

  /** Refuse everything from now on (the mount is going away or failed). */
  fail(err: Error): void {
    this.broken ??= err;
    this.offloaded?.changed();
    this.attrs?.off();
    this.wins?.stop();
    if (this.collectTimer) clearInterval(this.collectTimer);
    this.collectTimer = null;
  }

  /** Why the filesystem refuses everything, or null while it works. */
  get failure(): Error | null {
    return this.broken;
  }

  /**
   * A read: under the shared lock, refused once the filesystem has failed; what write windows
   * wrote is collected first, so it sees every write answered before it.
   */
  private reading<T>(fn: () => Promise<T>): Promise<T> {
    const read = () =>
      this.lock.shared(() => {
        this.checkUsable();
        return fn();
      });
    if (this.wins?.open && this.wins.advanced()) return this.collect(false).then(read);
    return read();
  }

  /** collectLocked under the exclusive lock. */
  private collect(close: boolean, which?: (w: { fh: number; ino: number }) => boolean): Promise<void> {
    return this.lock.exclusive(() => this.collectLocked(close, which));
  }

  /**
   * Under the exclusive lock: append (and fold) what write windows wrote since the last
   * collect, and with `close` close them (only those `which` picks, if given). A collect that
   * fails leaves the filesystem unusable: the writes it could not map were answered.
   */
  private async collectLocked(
    close: boolean,
    which?: (w: { fh: number; ino: number }) => boolean,
  ): Promise<void> {
    const wins = this.wins;
    if (!wins || this.broken) return;
    const c = new Change();
    try {
      await wins.collect(c, close, which);
      if (c.events.length === 0) return;
      c.seq = await this.append(c.events);
    } catch (err) {
      this.d.space.unreserve(c.reserved);
      c.rollBack();
      this.fail(err as Error);
      throw EIO(`collecting what write windows wrote failed: ${(err as Error).message}`);
    }
    await this.fold(c.events, c.seq);
    this.attrs?.refresh(this.recordOf);
  }

  /** While write windows are open, collect them every COLLECT_EVERY_MS so their data commits. */
  private collectOnTimer(): void {
    if (this.collectTimer || !this.wins?.open) return;
    this.collectTimer = setInterval(() => {
      const wins = this.wins;
      if (!wins?.open || this.broken) {
        clearInterval(this.collectTimer!);
        this.collectTimer = null;
        return;
      }
      if (wins.advanced()) this.collect(false).catch(() => {});
    }, COLLECT_EVERY_MS);
    this.collectTimer.unref();
  }

  // --- helpers -------------------------------------------------------------------------------

  /**
   * Decide under the exclusive lock, append, answer, then fold. The caller gets its answer as
   * soon as the events are in the open transaction (the decision is final and ordered); the
   * fold into the index runs after the answer has gone out (a macrotask later), still under the
   * lock, so it overlaps the FUSE round trip that brings the next request, and that request,
   * which needs the lock, sees the change. A fold that fails leaves the filesystem unusable
   * (`fail`): the log holds events the index could not take.
   */
  private mutate<T>(
    decide: (c: Change) => Promise<T>,
    touches: readonly number[] | 'all' = 'all',
  ): Promise<T> {
    this.checkUsable();
    return new Promise<T>((answer, refuse) => {
      const run = async () => {
        await this.d.beforeMutation?.();
        await this.lock.exclusive(async () => {
          this.checkUsable();
          // a change may cut, move or delete what a write window writes: close the windows of
          // the inodes it names first (all of them when that is not known before it decides)
          if (this.wins?.open) {
            await this.collectLocked(true, touches === 'all' ? undefined : (w) => touches.includes(w.ino));
          }
          const { c, out } = await this.decideAndAppend(decide);
          const seq = c.seq;
          // (they never throw: a window the binding refuses is simply not opened)
          if (seq > 0) for (const f of c.afterAppend) f();
          answer(out);
          if (seq > 0) {
            await afterAnswers();
            // the attributes copied out are put back from the fold's own records, before they
            // go into the memtable: a getattr waiting for them waits no longer than it must
            const attrs = this.attrs;
            const early = attrs
              ? (recs: Map<number, InodeRecord | null>) =>
                  attrs.refresh((ino) => {
                    const r = recs.get(ino);
                    return r === undefined ? this.recordOf(ino) : (r ?? undefined);
                  })
              : undefined;
            await this.fold(c.events, seq, early);
          }
          this.attrs?.refresh(this.recordOf);
        });
        this.onSettled?.();
      };
      run().catch(refuse);
    });
  }

  /**
   * Under the exclusive lock: decide a change and append its events. A change that fails before
   * its append gives back what it took; one that ran short of blocks while write windows hold
   * some takes them back (closes every window) and decides once more. Once appended, nothing it
   * took is given back: a failure after that (before its fold) leaves the filesystem unusable.
   */
  private async decideAndAppend<T>(decide: (c: Change) => Promise<T>): Promise<{ c: Change; out: T }> {
    for (let attempt = 0; ; attempt++) {
      const c = new Change();
      try {
        const out = await decide(c);
        if (c.events.length > 0) {
          c.seq = await this.append(c.events);
          c.reserved.length = 0;
          c.undo.length = 0;
        }
        this.paths.settle(true);
        return { c, out };
      } catch (err) {
        this.paths.settle(false);
        this.d.space.unreserve(c.reserved);
        c.rollBack();
        if (!(err instanceof FsError)) this.paths.clear();
        this.attrs?.refresh(this.recordOf, true);
        // appended but not folded, the index would go on without it: nothing is sure now
        if (c.seq > 0) {
          this.fail(err as Error);
          throw EIO(`a change appended at seq ${c.seq} could not be completed: ${(err as Error).message}`);
        }
        // blocks that write windows reserved and did not write are this change's to take
        const held = this.wins?.held() ?? 0;
        if (attempt === 0 && held > 0 && err instanceof FsError && err.code === 'ENOSPC') {
          await this.collectLocked(true);
          continue;
        }
        throw err;
      }
    }
  }

  /** A change to inode `ino` (and to no other inode that could have a write window). */
  private mutateInode<T>(ino: number, decide: (c: Change) => Promise<T>): Promise<T> {
    return this.mutate(decide, [ino]);
  }

  /** The record of an inode in memory, if it is there (for the attribute copy's refresh). */
  private readonly recordOf = (ino: number): InodeRecord | undefined => this.items.inodeNow(ino) ?? undefined;

  /** Events into the open transaction, and what they do to the caches and the data space. */
  private async append(events: FsEvent[]): Promise<number> {
    // before anything changes: windows of files handed to readers are no longer current, nor
    // are the attributes copied out of the inodes the events name
    this.offloaded?.changed();
    if (this.attrs) {
      const inos: number[] = [];
      for (const e of events) for (const i of inodesOf(e)) inos.push(i);
      this.attrs.stale(inos);
    }
    for (const e of events)
      if (e.type === 'DirentAdded' || e.type === 'DirentRemoved') this.listings.drop(e.dir);
    const seq = await this.d.writer.append(events);
    for (const e of events) {
      if (e.type === 'ExtentUnmapped') this.d.space.freeAfter(seq, { start: e.physical, count: e.count });
      if (e.type === 'ExtentMapped') this.claimRemapped(seq, e);
      if (e.type === 'ExtentMapped' || e.type === 'ExtentUnmapped' || e.type === 'InodeDeleted')
        this.data.forget(e.ino);
    }
    this.seqNow = Math.max(this.seqNow, seq);
    return seq;
  }

  private async fold(
    events: FsEvent[],
    seq: number,
    beforeApply?: (records: Map<number, InodeRecord | null>) => void,
  ): Promise<void> {
    try {
      await this.d.fold(events, seq, beforeApply);
    } catch (err) {
      // the log holds events the index could not take: nothing can be trusted past here
      this.fail(err as Error);
      throw EIO(`index fold failed at seq ${seq}: ${(err as Error).message}`);
    }
  }

  private async appendAndFold(events: FsEvent[]): Promise<number> {
    const seq = await this.append(events);
    await this.fold(events, seq);
    return seq;
  }

  /** A span unmapped and mapped again in the same transaction (an extent shortened) stays used. */
  private claimRemapped(seq: number, e: { physical: number; count: number }): void {
    this.d.space.unfree(seq, { start: e.physical, count: e.count });
  }

  /** Append a change's events so far as their own step (for changes too big for one record). */
  private readonly step: StepFn = async (c) => {
    if (c.events.length === 0) return;
    await this.appendAndFold(c.events.splice(0));
    c.reserved.length = 0;
    c.undo.length = 0;
  };

  private checkUsable(): void {
    if (this.broken) throw EIO(`filesystem unusable: ${this.broken.message}`);
  }

  private async inodeOf(ino: number): Promise<InodeRecord> {
    const rec = await this.items.inode(ino);
    if (!rec) throw ENOENT(`inode ${ino} does not exist`);
    return rec;
  }

  private async dirOf(ino: number): Promise<InodeRecord> {
    const rec = await this.inodeOf(ino);
    if (!isDir(rec.mode)) throw new FsError('ENOTDIR', `inode ${ino} is not a directory`);
    return rec;
  }

  private newIno(c: Change): number {
    // a change that fails before it is appended gives its numbers back, and the reservation
    // with them: numbers drawn from a reservation that was never appended would be handed out
    // again after the next mount
    const { nextIno, reservedEnd } = this;
    c.undo.push(() => {
      this.nextIno = nextIno;
      this.reservedEnd = reservedEnd;
    });
    if (this.nextIno >= this.reservedEnd) {
      c.events.push({ type: 'InodesReserved', first: this.reservedEnd, count: INODE_BATCH });
      this.reservedEnd += INODE_BATCH;
    }
    const ino = this.nextIno;
    this.nextIno += 1;
    return ino;
  }

  /** A readdir position above every earlier one in the directory: creation order. */
  private async newPos(dir: number): Promise<number> {
    let pos = Math.max(this.lastPos + 1, (this.seqNow + 1) * 65536);
    while (await this.items.readdirPosTaken(dir, pos)) pos += 1;
    this.lastPos = pos;
    return pos;
  }

  private async isAncestor(ancestor: number, dir: number): Promise<boolean> {
    let at = dir;
    for (let depth = 0; depth < 4096; depth++) {
      if (at === ancestor) return true;
      if (at === this.rootIno) return false;
      const up = await this.items.backrefs(at);
      if (up.length !== 1) throw EIO(`directory ${at} has ${up.length} parents`);
      at = up[0]!.dir;
    }
    throw EIO(`directory ${dir} is deeper than 4096 levels`);
  }

  private async pathOfDir(dir: number): Promise<string> {
    const parts: string[] = [];
    let at = dir;
    for (let depth = 0; at !== this.rootIno; depth++) {
      if (depth > 4096) throw EIO(`directory ${dir} is deeper than 4096 levels`);
      const up = await this.items.backrefs(at);
      if (up.length !== 1) throw EIO(`directory ${at} has ${up.length} parents`);
      parts.unshift(byteString(up[0]!.name));
      at = up[0]!.dir;
    }
    return `/${parts.join('/')}`;
  }

  /** After a name of `rec` went away: delete it if that was its last link and nobody has it open. */
  private async dropLink(c: Change, rec: InodeRecord): Promise<void> {
    if (isDir(rec.mode)) {
      await this.deleteInode(c, rec);
      return;
    }
    if (rec.nlink > 1) return;
    if (this.open.isOpen(rec.ino)) {
      if (!(await this.items.isOrphan(rec.ino))) c.events.push({ type: 'OrphanAdded', ino: rec.ino });
      this.open.lostName(rec.ino);
      return;
    }
    await this.deleteInode(c, rec);
  }

  /** Unmap everything and delete; several appends (as an orphan) when the extents are many. */
  private async deleteInode(c: Change, rec: InodeRecord): Promise<void> {
    // onlineBlocks counts the blocks its extents map (the fold keeps it): none, nothing to unmap
    if (isReg(rec.mode) && rec.onlineBlocks > 0) {
      const many = (await this.items.extentsFrom(rec.ino, 0)).length > UNMAP_BATCH;
      if (many && !(await this.items.isOrphan(rec.ino))) c.events.push({ type: 'OrphanAdded', ino: rec.ino });
      await this.data.unmapAll(c, rec.ino, this.step);
    }
    c.events.push({ type: 'InodeDeleted', ino: rec.ino, xattrs: rec.xattrs });
  }
}

/** Whether getxattr could find `name` at all (ERANGE and EOPNOTSUPP otherwise). */
export function isXattrName(name: string): boolean {
  return xattrNameProblem(name, bytesOf(name)) === null;
}

function xattrName(name: string): Buffer {
  const b = bytesOf(name);
  const problem = xattrNameProblem(name, b);
  if (problem) throw problem;
  return b;
}

/** Why `name` (whose bytes are `b`) cannot name an xattr, or null when it can. */
function xattrNameProblem(name: string, b: Buffer): FsError | null {
  if (b.length === 0 || b.length > LIMITS.xattrNameMax)
    return new FsError('ERANGE', `xattr name of ${b.length} bytes; the limit is ${LIMITS.xattrNameMax}`);
  if (!XATTR_NAMESPACES.some((ns) => name.startsWith(ns) && name.length > ns.length))
    return new FsError(
      'EOPNOTSUPP',
      `xattr "${shown(name)}" is not in the user, trusted, security or system namespace`,
    );
  return null;
}

/**
 * A macrotask later: every answer already given has gone out (fuse-native sends replies from
 * process.nextTick callbacks). A macrotask rather than a tick, so the event loop turns between
 * one mutation's answer and its fold: the log writer's and the checkpoint's IO completions run
 * there, and a caller issuing mutations back to back (not through FUSE, whose requests arrive
 * as macrotasks anyway) cannot starve them. (A tick instead kept the 1M-inode build's memory
 * about 50 MB higher, with background IO waiting.)
 */
function afterAnswers(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export function dtypeOf(mode: number): number {
  return (mode & S_IFMT) >> 12;
}

export { DT_DIR, S_IFDIR, S_IFREG, S_ISUID };
