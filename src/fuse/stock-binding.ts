/*
 * The operation table adapted to fuse-native as published, for machines where our patched build
 * (native/build-fuse-native.sh) has not been made.
 *
 * The stock binding loses three things, and this is where we make do:
 * - No caller: ops run on the JS thread, which cannot ask FUSE who called, so new inodes belong
 *   to the mount process's uid and gid.
 * - Times are whole milliseconds both ways, so stat shows no nanoseconds.
 * - utimens: the binding does not tell libfuse it understands UTIME_NOW / UTIME_OMIT, so libfuse
 *   silently drops a change of one time alone (touch -m, touch -a) and turns "now" into the
 *   kernel's clock reading; and the binding passes atime twice, so mtime becomes atime.
 * - No null paths: an op on a file libfuse has no name for fails ENOENT, so a file unlinked while
 *   open keeps libfuse's ".fuse_hidden" name in the filesystem (readdir shows it, rmdir of its
 *   directory fails ENOTEMPTY) until the last close unlinks it.
 * - Names are UTF-8 strings: the binding turns bytes that are not UTF-8 into U+FFFD, so such
 *   names are lost (two of them can become one). The table takes byte strings (names.ts), so
 *   every string crossing this edge is re-encoded, and UTF-8 names work as they always did.
 */

import type { Timespec } from '../events/event.js';
import type { InodeRecord } from '../format/item-schema.js';
import type { Caller, Fs } from '../fs/fs.js';
import { byteString, shown } from '../fs/names.js';
import { type Cb, fuseOperations, statOf } from './operations.js';

type Op = (...args: unknown[]) => void;

export function stockOperations(fs: Fs, log: (line: string) => void, caller: Caller) {
  const ops = fuseOperations(fs, log, { stat: msStatOf, hiddenInFs: true });
  return utf8Edge({
    ...ops,
    create: (p: string, mode: number, cb: Cb) => ops.create(p, mode, caller, cb),
    mknod: (p: string, mode: number, dev: number, cb: Cb) => ops.mknod(p, mode, dev, caller, cb),
    mkdir: (p: string, mode: number, cb: Cb) => ops.mkdir(p, mode, caller, cb),
    symlink: (target: string, p: string, cb: Cb) => ops.symlink(target, p, caller, cb),
    link: (target: string, p: string, cb: Cb) => ops.link(target, p, caller, cb),
    rename: (from: string, to: string, cb: Cb) => ops.rename(from, to, caller, cb),
    utimens: (p: string, atime: number, mtime: number, cb: Cb) =>
      ops.utimens(p, msTime(atime), msTime(mtime), cb),
  });
}

/**
 * The table with UTF-8 strings at its edge: every string an op gets (a path, a name, a link
 * target) becomes a byte string, and every string or list of strings its callback hands back
 * (readdir's names, readlink's target, listxattr's names) becomes UTF-8 again.
 */
function utf8Edge(table: object): Record<string, Op> {
  const edge: Record<string, Op> = {};
  for (const [name, op] of Object.entries(table) as [string, Op][]) {
    edge[name] = (...args: unknown[]) => {
      const cb = args.pop() as Cb;
      op(...args.map(fromUtf8), (res: number, ...values: unknown[]) => cb(res, ...values.map(toUtf8)));
    };
  }
  return edge;
}

function fromUtf8(arg: unknown): unknown {
  return typeof arg === 'string' ? byteString(Buffer.from(arg, 'utf8')) : arg;
}

function toUtf8(value: unknown): unknown {
  if (typeof value === 'string') return shown(value);
  return Array.isArray(value) ? value.map(toUtf8) : value;
}

function msStatOf(r: InodeRecord) {
  const st = statOf(r);
  return { ...st, atime: toMs(st.atime), mtime: toMs(st.mtime), ctime: toMs(st.ctime) };
}

function toMs(t: Timespec): number {
  return t.sec * 1000 + Math.floor(t.nsec / 1e6);
}

function msTime(ms: number): Timespec {
  const sec = Math.floor(ms / 1000);
  return { sec, nsec: (ms - sec * 1000) * 1e6 };
}
