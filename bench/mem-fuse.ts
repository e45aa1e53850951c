/*
 * A trivial in-memory filesystem on fuse-native: the binding's ceiling.
 *
 * A Map from path to { stat, data } and, for a directory, the set of its children's names;
 * nothing else. Every operation answers synchronously with no allocation beyond what the
 * answer needs, so what a mount of it costs is the kernel, libfuse's high-level (path-based)
 * loop, fuse-native's hop onto the JS thread and back, and Node, which every fuse-native
 * filesystem pays before doing any work of its own. The mount benchmark serves it from a child
 * process (mem-fuse-child.ts) with the mount options scoutfs uses.
 *
 * Only what the benchmark's workload and its cleanup reach is implemented: getattr, readdir,
 * create, open, release, read, write, truncate, utimens, chmod, mkdir, rmdir, unlink, rename.
 * Operations left out (flush, fsync, access, statfs, ...) are not passed to libfuse at all, so
 * the kernel gets ENOSYS once and stops asking, or libfuse answers for us.
 *
 * It speaks both calling conventions of the binding: the published one, and this project's
 * patched build (native/fuse-native.patch), which adds the caller before the callback of
 * create, mkdir and rename and gives utimens { sec, nsec } or 'now' / 'omit' instead of
 * milliseconds. So the callback is always taken as the last argument.
 */

import { constants } from 'node:os';

const { ENOENT, ENOTDIR, EISDIR, EEXIST, ENOTEMPTY } = constants.errno;
const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;

type Cb = (res: number, ...values: unknown[]) => void;
/** A time as utimens gets it: ms from the published binding, the rest from the patched one. */
type UtimeArg = number | { sec: number; nsec: number } | 'now' | 'omit';

/** What fuse-native's getattr wants; times in milliseconds. */
export interface MemStat {
  ino: number;
  mode: number;
  nlink: number;
  uid: number;
  gid: number;
  size: number;
  blocks: number;
  blksize: number;
  atime: number;
  mtime: number;
  ctime: number;
}

/**
 * File bytes are kept in chunks of this size, made (zeroed) when first written: a growing file
 * never copies what it already holds, so the write rate is the binding's, not a reallocation's.
 */
const CHUNK = 1 << 20;

interface Entry {
  stat: MemStat;
  /** File bytes by chunk (CHUNK bytes each); a missing chunk reads as zeros. */
  data: (Buffer | undefined)[];
  /** Names in a directory; null for a file. */
  children: Set<string> | null;
}

/** The fuse-native operations table of a fresh, empty in-memory filesystem. */
export function memFuseOperations() {
  const entries = new Map<string, Entry>();
  let nextIno = 1;
  const uid = process.getuid?.() ?? 0;
  const gid = process.getgid?.() ?? 0;
  const entry = (mode: number): Entry => {
    const now = Date.now();
    const stat = { ino: nextIno++, mode, nlink: 1, uid, gid, size: 0, blocks: 0, blksize: 4096 };
    const isDir = (mode & S_IFMT) === S_IFDIR;
    if (isDir) stat.nlink = 2;
    return {
      stat: { ...stat, atime: now, mtime: now, ctime: now },
      data: [],
      children: isDir ? new Set() : null,
    };
  };
  entries.set('/', entry(S_IFDIR | 0o755));

  const add = (path: string, mode: number): number => {
    const parent = entries.get(parentOf(path));
    if (!parent) return -ENOENT;
    if (!parent.children) return -ENOTDIR;
    if (entries.has(path)) return -EEXIST;
    entries.set(path, entry(mode));
    parent.children.add(nameOf(path));
    touched(parent.stat);
    return 0;
  };
  const remove = (path: string, dir: boolean): number => {
    const e = entries.get(path);
    if (!e) return -ENOENT;
    if (dir && !e.children) return -ENOTDIR;
    if (!dir && e.children) return -EISDIR;
    if (e.children && e.children.size > 0) return -ENOTEMPTY;
    entries.delete(path);
    detach(path);
    return 0;
  };
  const detach = (path: string) => {
    const parent = entries.get(parentOf(path))!;
    parent.children!.delete(nameOf(path));
    touched(parent.stat);
  };
  const rename = (from: string, to: string): number => {
    const e = entries.get(from);
    const parent = entries.get(parentOf(to));
    if (!e) return -ENOENT;
    if (!parent?.children) return parent ? -ENOTDIR : -ENOENT;
    const old = entries.get(to);
    if (old) {
      if (old.children && !e.children) return -EISDIR;
      if (!old.children && e.children) return -ENOTDIR;
      if (old.children && old.children.size > 0) return -ENOTEMPTY;
    }
    // a directory moves with everything under it: every key below `from` is rewritten
    const below = e.children ? [...entries].filter(([p]) => p.startsWith(`${from}/`)) : [];
    const moved: [string, Entry][] = [[from, e], ...below];
    for (const [p] of moved) entries.delete(p);
    detach(from);
    for (const [p, x] of moved) entries.set(to + p.slice(from.length), x);
    parent.children.add(nameOf(to));
    touched(parent.stat);
    e.stat.ctime = Date.now();
    return 0;
  };
  const file = (path: string): Entry | number => {
    const e = entries.get(path);
    if (!e) return -ENOENT;
    return e.children ? -EISDIR : e;
  };
  const resize = (e: Entry, size: number) => {
    if (size < e.stat.size) {
      // what a later growth exposes must read as zeros: the rest of the last chunk, and no chunk past it
      e.data.length = Math.ceil(size / CHUNK);
      e.data[e.data.length - 1]?.fill(0, size - (e.data.length - 1) * CHUNK);
    }
    e.stat.size = size;
    e.stat.blocks = Math.ceil(size / 512);
  };
  /** Copy between a file's chunks and `buf`, [pos, pos + len) of the file; `into` the file or out of it. */
  const copy = (e: Entry, buf: Buffer, pos: number, len: number, into: boolean) => {
    for (let done = 0; done < len; ) {
      const i = Math.floor((pos + done) / CHUNK);
      const at = (pos + done) % CHUNK;
      const n = Math.min(len - done, CHUNK - at);
      let chunk = e.data[i];
      if (into) {
        if (!chunk) chunk = e.data[i] = Buffer.alloc(CHUNK);
        buf.copy(chunk, at, done, done + n);
      } else if (chunk) chunk.copy(buf, done, at, at + n);
      else buf.fill(0, done, done + n);
      done += n;
    }
  };
  let nextFd = 1;

  return {
    getattr: (path: string, cb: Cb) => {
      const e = entries.get(path);
      return e ? cb(0, e.stat) : cb(-ENOENT);
    },
    readdir: (path: string, cb: Cb) => {
      const e = entries.get(path);
      if (!e) return cb(-ENOENT);
      return e.children ? cb(0, ['.', '..', ...e.children]) : cb(-ENOTDIR);
    },
    create: (path: string, mode: number, ...rest: unknown[]) => {
      const cb = last(rest);
      const res = add(path, (mode & 0o7777) | S_IFREG);
      return res < 0 ? cb(res) : cb(0, nextFd++);
    },
    open: (path: string, _flags: number, cb: Cb) => (entries.has(path) ? cb(0, nextFd++) : cb(-ENOENT)),
    release: (_path: string, _fd: number, cb: Cb) => cb(0),
    read: (path: string, _fd: number, buf: Buffer, len: number, pos: number, cb: Cb) => {
      const e = file(path);
      if (typeof e === 'number') return cb(e);
      const n = Math.max(0, Math.min(e.stat.size, pos + len) - pos);
      copy(e, buf, pos, n, false);
      return cb(n);
    },
    write: (path: string, _fd: number, buf: Buffer, len: number, pos: number, cb: Cb) => {
      const e = file(path);
      if (typeof e === 'number') return cb(e);
      if (pos + len > e.stat.size) resize(e, pos + len);
      // buf is the kernel's request buffer, reused once we answer: copy out of it
      copy(e, buf, pos, len, true);
      touched(e.stat);
      return cb(len);
    },
    truncate: (path: string, size: number, cb: Cb) => {
      const e = file(path);
      if (typeof e === 'number') return cb(e);
      resize(e, size);
      touched(e.stat);
      return cb(0);
    },
    utimens: (path: string, atime: UtimeArg, mtime: UtimeArg, cb: Cb) => {
      const e = entries.get(path);
      if (!e) return cb(-ENOENT);
      e.stat.atime = utimeMs(atime, e.stat.atime);
      e.stat.mtime = utimeMs(mtime, e.stat.mtime);
      e.stat.ctime = Date.now();
      return cb(0);
    },
    chmod: (path: string, mode: number, cb: Cb) => {
      const e = entries.get(path);
      if (!e) return cb(-ENOENT);
      e.stat.mode = (e.stat.mode & S_IFMT) | (mode & 0o7777);
      e.stat.ctime = Date.now();
      return cb(0);
    },
    mkdir: (path: string, mode: number, ...rest: unknown[]) =>
      last(rest)(add(path, (mode & 0o7777) | S_IFDIR)),
    rmdir: (path: string, cb: Cb) => cb(remove(path, true)),
    unlink: (path: string, cb: Cb) => cb(remove(path, false)),
    rename: (from: string, to: string, ...rest: unknown[]) => last(rest)(rename(from, to)),
  };
}

function last(args: readonly unknown[]): Cb {
  return args[args.length - 1] as Cb;
}

function utimeMs(t: UtimeArg, old: number): number {
  if (t === 'now') return Date.now();
  if (t === 'omit') return old;
  return typeof t === 'number' ? t : t.sec * 1000 + Math.floor(t.nsec / 1e6);
}

function touched(stat: MemStat): void {
  stat.mtime = stat.ctime = Date.now();
}

function parentOf(path: string): string {
  return path.slice(0, path.lastIndexOf('/')) || '/';
}

function nameOf(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}
