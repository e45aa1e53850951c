/*
 * The FUSE operation table: one line per operation, from fuse-native's path-based calls to the
 * filesystem API.
 *
 * fuse-native answers through callbacks whose first argument is the result: 0 or -errno, and
 * for read, write and getxattr a byte count. `reply` turns a promise into that callback, with
 * errors mapped in errno.ts. Open files are tracked by handle, so reads and writes reach the
 * inode even after a rename.
 *
 * A file unlinked while open keeps no name in the filesystem: libfuse's rename of it to a
 * ".fuse_hidden" name becomes an unlink, and the hidden name lives in hidden-names.ts. Should
 * libfuse lose every path to such a file (its directory removed), the patched binding passes
 * null to the ops that carry a handle (read, write, fsync, release, ftruncate,
 * fgetattr), and those find the inode by handle; fgetattr always does. A null path reaches a
 * path-only op only inside a setattr that came with a handle (ftruncate), where utimens asks
 * for the times the truncate has just set.
 *
 * The table speaks the calling convention of our patched fuse-native (native/fuse-native.patch):
 * times are seconds and nanoseconds both ways, utimens tells UTIME_NOW ('now') from UTIME_OMIT
 * ('omit'), the ops that make a name get the caller's uid and gid, so new inodes belong to
 * whoever made them, and paths, names and link targets are byte strings, one char per byte, both
 * ways (names.ts), so a name that is not UTF-8 is kept exactly. stock-binding.ts adapts the table
 * to the published binding, which has none of that.
 *
 * create answers with the new file's attributes as well as its handle: libfuse asks for them
 * (fgetattr) right after every create, and the patched binding answers that from what create
 * gave it instead of calling into JS again.
 *
 * Writes and releases carry their handle (writeHandles): a sequential writer's handle gets a
 * write window, and the binding answers the writes that continue it itself (write-windows.ts);
 * the filesystem maps them before anything reads its state.
 *
 * There is no flush: nothing is buffered per open file in a way a close must push (every write
 * reaches the filesystem or a window's blocks when it is made, and durability is fsync's), so it
 * would only cost a round trip per close; libfuse answers ENOSYS for it and the kernel stops
 * sending it.
 */

import { ERRNO, FsError } from '../errors.js';
import type { Timespec } from '../events/event.js';
import type { InodeRecord } from '../format/item-schema.js';
import { type Caller, type Fs, isXattrName, S_IFDIR, S_IFREG } from '../fs/fs.js';
import { byteString, bytesOf } from '../fs/names.js';
import type { OffloadedReads } from '../fs/offloaded-reads.js';
import { S_IFLNK } from '../projections/inode-record.js';
import { errnoReplies } from './errno.js';
import { HiddenNames } from './hidden-names.js';
import type { NativeAttrs } from './native-attrs.js';
import type { RequestPoll } from './request-poll.js';

export type Cb = (res: number, ...values: unknown[]) => void;

/** A path from libfuse: null for an open file it has no name for any more. */
export type FusePath = string | null;

/** A time utimens asks for: explicit, the current time, or left alone. */
export type UtimeArg = Timespec | 'now' | 'omit';

export interface FuseStat {
  ino: number;
  mode: number;
  nlink: number;
  uid: number;
  gid: number;
  rdev: number;
  size: number;
  blocks: number;
  blksize: number;
  atime: Timespec;
  mtime: Timespec;
  ctime: Timespec;
}

/** The block size getattr reports. */
export const BLKSIZE = 4096;

export function statOf(r: InodeRecord): FuseStat {
  return {
    ino: r.ino,
    mode: r.mode,
    nlink: r.nlink,
    uid: r.uid,
    gid: r.gid,
    rdev: r.rdev,
    size: r.size,
    blocks: r.onlineBlocks * 8,
    blksize: BLKSIZE,
    atime: { sec: r.atimeSec, nsec: r.atimeNsec },
    mtime: { sec: r.mtimeSec, nsec: r.mtimeNsec },
    ctime: { sec: r.ctimeSec, nsec: r.ctimeNsec },
  };
}

export interface OperationsOptions {
  /** Shapes getattr's answer; the stock binding needs milliseconds (stock-binding.ts). */
  stat?: (r: InodeRecord) => object;
  /**
   * Pass libfuse's ".fuse_hidden" renames to the filesystem: the stock binding cannot give an
   * op a null path, so a hidden file has to keep a name there that libfuse can use.
   */
  hiddenInFs?: boolean;
  /**
   * Answer reads with the device pieces for the binding's FUSE thread to pread (patch 6), these
   * reads counted as handed off here; without it the bytes are read here.
   */
  deviceReads?: OffloadedReads;
  /**
   * Hand getattr answers that came from memory to the binding's attribute cache (patch 7),
   * which the filesystem then keeps exact (attr-mirror.ts).
   */
  attrs?: NativeAttrs;
  /**
   * Pass writes and releases their handle, for the filesystem's write windows (patch 8,
   * Fs.handsOffWrites).
   */
  writeHandles?: boolean;
  /** Told of every answer, to poll for the next request once JS is idle (patch 9). */
  poll?: RequestPoll;
}

/** The most device pieces one read's answer may carry (the binding's DEV_SEG_MAX). */
export const MAX_READ_PIECES = 64;

export function fuseOperations(fs: Fs, log: (line: string) => void, o: OperationsOptions = {}) {
  const stat = o.stat ?? statOf;
  // the device's descriptor when reads are handed to the binding's threads, else null
  let deviceFd: number | null = null;
  if (o.deviceReads && fs.deviceDescriptor !== undefined) {
    deviceFd = fs.deviceDescriptor;
    fs.handsOffReads(o.deviceReads);
  }
  const attrs = o.attrs ?? null;
  if (attrs) fs.handsOffAttrs(attrs);
  const windowed = o.writeHandles === true;
  const hidden = o.hiddenInFs ? null : new HiddenNames(fs);
  const handles = new Map<number, number>();
  let nextHandle = 1;
  const errnoOf = errnoReplies(log);
  const poll = o.poll ?? null;
  // an answer given at once, without a promise
  const answer = (cb: Cb, ...r: [number, ...unknown[]]) => {
    cb(...r);
    poll?.settled();
  };
  const reply = (cb: Cb, work: Promise<number | [number, ...unknown[]]>) => {
    work.then(
      (r) => (Array.isArray(r) ? answer(cb, ...r) : answer(cb, r)),
      (err) => answer(cb, errnoOf(err)),
    );
  };
  const ok = (p: Promise<unknown>) => p.then(() => 0);
  const ino = async (path: FusePath) => {
    if (path === null) throw new FsError('ENOENT', 'the file has no name left');
    return (await hidden?.ino(path)) ?? fs.resolve(path);
  };
  const isOpen = (i: number) => [...handles.values()].includes(i);
  const handleIno = async (fd: number, path: FusePath) => {
    const i = handles.get(fd);
    if (i !== undefined) return i;
    if (path === null) throw new FsError('EBADF', `no open file with handle ${fd}`);
    return ino(path);
  };
  const open = async (i: number): Promise<[number, number]> => {
    const fd = nextHandle++;
    handles.set(fd, i);
    fs.opened(i);
    return [0, fd];
  };
  const rename = async (from: string, to: string) => {
    if (hidden && HiddenNames.isHidden(to)) {
      const i = await ino(from);
      if (isOpen(i)) return hidden.hide(from, to, i);
    }
    await fs.rename(from, to);
  };
  const unlink = async (p: string) => {
    if (!(await hidden?.unlink(p))) await fs.unlink(p);
  };
  // readdir's answer for each listing the filesystem's listing cache holds (the same array
  // until a name in that directory changes), so a directory listed again is not converted again
  const answers = new WeakMap<readonly { name: Buffer }[], string[]>();
  const namesOf = (list: readonly { name: Buffer }[]) => {
    let names = answers.get(list);
    if (!names) {
      names = ['.', '..', ...list.map((e) => byteString(e.name))];
      answers.set(list, names);
    }
    return names;
  };
  const xattrless = (p: string) => (hidden?.mayName(p) ? undefined : fs.xattrlessNow(p));
  const utime = (t: UtimeArg) => (t === 'omit' ? null : t);
  const explicit = (t: UtimeArg) => t !== 'omit' && t !== 'now';

  return {
    statfs: (_p: string, cb: Cb) =>
      reply(
        cb,
        fs.usage().then((u) => [0, statfsOf(fs, u)]),
      ),
    getattr: (p: string, cb: Cb) => {
      // most lookups are answered from memory, at once
      const mayHide = hidden?.mayName(p) ?? false;
      const now = mayHide ? undefined : fs.statNow(p);
      if (now === null) answer(cb, -ERRNO.ENOENT);
      else if (now !== undefined) answer(cb, 0, stat(now), attrs?.answered(now));
      else if (!mayHide) {
        // the generation is taken where the record is read, under the same hold of the lock
        let gen: number | undefined;
        const seen = (r: InodeRecord) => {
          gen = attrs?.answered(r);
        };
        reply(
          cb,
          fs.statPath(p, seen).then((r) => [0, stat(r), gen]),
        );
      } else
        reply(
          cb,
          ino(p)
            .then((i) => fs.getattr(i))
            .then((r) => [0, stat(r)]),
        );
    },
    fgetattr: (p: FusePath, fd: number, cb: Cb) =>
      reply(
        cb,
        handleIno(fd, p)
          .then((i) => fs.getattr(i))
          .then((r) => [0, stat(r)]),
      ),
    access: (p: string, _mode: number, cb: Cb) => reply(cb, ok(ino(p))),
    readdir: (p: FusePath, cb: Cb) =>
      reply(
        cb,
        ino(p)
          .then((i) => fs.readdir(i))
          .then((list) => [0, namesOf(list)]),
      ),
    readlink: (p: string, cb: Cb) =>
      reply(
        cb,
        ino(p)
          .then((i) => fs.readlink(i))
          .then((t) => [0, byteString(t)]),
      ),
    open: (p: string, _flags: number, cb: Cb) => reply(cb, ino(p).then(open)),
    // with the new file's attributes, which the patched binding gives libfuse's fgetattr
    create: (p: string, mode: number, who: Caller, cb: Cb) =>
      reply(
        cb,
        fs.createInode(p, (mode & 0o7777) | S_IFREG, who).then(async (r) => {
          const [, fd] = await open(r.ino);
          return [0, fd, stat(r)];
        }),
      ),
    release: (p: FusePath, fd: number, cb: Cb) => {
      const i = handles.get(fd);
      handles.delete(fd);
      // with a path, libfuse unlinks a hidden name itself right after this
      if (p === null && i !== undefined && !isOpen(i)) hidden?.forget(i);
      reply(cb, i === undefined ? Promise.resolve(0) : ok(fs.released(i, windowed ? fd : undefined)));
    },
    read: (p: FusePath, fd: number, buf: Buffer, len: number, pos: number, cb: Cb) =>
      reply(
        cb,
        deviceFd === null
          ? handleIno(fd, p)
              .then((i) => fs.read(i, pos, len, buf))
              .then((data) => data.length)
          : handleIno(fd, p)
              .then((i) => fs.readPlan(i, pos, len, buf, MAX_READ_PIECES))
              .then((r): number | [number, number, Float64Array, Float64Array | null, number] =>
                r.pieces ? [r.bytes, deviceFd, r.pieces, r.window, r.epoch] : r.bytes,
              ),
      ),
    write: (p: FusePath, fd: number, buf: Buffer, len: number, pos: number, cb: Cb) =>
      reply(
        cb,
        handleIno(fd, p).then((i) => fs.write(i, pos, buf.subarray(0, len), windowed ? fd : undefined)),
      ),
    fsync: (_p: FusePath, _datasync: number, _fd: number, cb: Cb) => reply(cb, ok(fs.commit())),
    fsyncdir: (_p: FusePath, _datasync: number, _fd: number, cb: Cb) => reply(cb, ok(fs.commit())),
    truncate: (p: string, size: number, cb: Cb) => reply(cb, ok(ino(p).then((i) => fs.truncate(i, size)))),
    ftruncate: (p: FusePath, fd: number, size: number, cb: Cb) =>
      reply(cb, ok(handleIno(fd, p).then((i) => fs.truncate(i, size)))),
    utimens: (p: FusePath, atime: UtimeArg, mtime: UtimeArg, cb: Cb) =>
      p === null && !explicit(atime) && !explicit(mtime)
        ? answer(cb, 0)
        : reply(cb, ok(ino(p).then((i) => fs.utimens(i, utime(atime), utime(mtime))))),
    chown: (p: FusePath, uid: number, gid: number, cb: Cb) =>
      reply(cb, ok(ino(p).then((i) => fs.chown(i, uid, gid)))),
    chmod: (p: FusePath, mode: number, cb: Cb) => reply(cb, ok(ino(p).then((i) => fs.chmod(i, mode)))),
    mknod: (p: string, mode: number, dev: number, who: Caller, cb: Cb) =>
      reply(cb, ok(fs.create(p, mode, who, { rdev: dev }))),
    mkdir: (p: string, mode: number, who: Caller, cb: Cb) =>
      reply(cb, ok(fs.create(p, (mode & 0o7777) | S_IFDIR, who))),
    symlink: (target: string, p: string, who: Caller, cb: Cb) =>
      reply(cb, ok(fs.create(p, S_IFLNK | 0o777, who, { symlink: bytesOf(target) }))),
    link: (target: string, p: string, _who: Caller, cb: Cb) => reply(cb, ok(fs.link(target, p))),
    unlink: (p: string, cb: Cb) => reply(cb, ok(unlink(p))),
    rmdir: (p: string, cb: Cb) => reply(cb, ok(fs.rmdir(p))),
    rename: (from: string, to: string, _who: Caller, cb: Cb) => reply(cb, ok(rename(from, to))),
    setxattr: (p: string, name: string, value: Buffer, _pos: number, flags: number, cb: Cb) =>
      reply(cb, ok(ino(p).then((i) => fs.setxattr(i, name, Buffer.from(value), flags)))),
    getxattr: (p: string, name: string, _pos: number, cb: Cb) => {
      // a file with no xattrs at all answers at once (its inode counts them)
      const none = xattrless(p);
      if (none === null) answer(cb, -ERRNO.ENOENT);
      else if (none && isXattrName(name)) answer(cb, -ERRNO.ENODATA);
      else
        reply(
          cb,
          ino(p)
            .then((i) => fs.getxattr(i, name))
            .then((v) => [0, v]),
        );
    },
    listxattr: (p: string, cb: Cb) => {
      const none = xattrless(p);
      if (none === null) answer(cb, -ERRNO.ENOENT);
      else if (none) answer(cb, 0, []);
      else
        reply(
          cb,
          ino(p)
            .then((i) => fs.listxattr(i))
            .then((l) => [0, l]),
        );
    },
    removexattr: (p: string, name: string, cb: Cb) =>
      reply(cb, ok(ino(p).then((i) => fs.removexattr(i, name)))),
  };
}

function statfsOf(fs: Fs, u: { inodes: number; freeBlocks: number; totalBlocks: number }) {
  const files = Math.max(u.inodes, fs.sb.metaBlocks * 16);
  return {
    bsize: 4096,
    frsize: 4096,
    blocks: u.totalBlocks,
    bfree: u.freeBlocks,
    bavail: u.freeBlocks,
    files,
    ffree: files - u.inodes,
    favail: files - u.inodes,
    fsid: fs.sb.fsid.readUInt32BE(0),
    flag: 0,
    namemax: 255,
  };
}
