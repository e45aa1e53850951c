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
 */

import type { Timespec } from '../events/event.js';
import type { InodeRecord } from '../format/item-schema.js';
import type { Caller, Fs } from '../fs/fs.js';
import { type Cb, fuseOperations, statOf } from './operations.js';

export function stockOperations(fs: Fs, log: (line: string) => void, caller: Caller) {
  const ops = fuseOperations(fs, log, { stat: msStatOf, hiddenInFs: true });
  return {
    ...ops,
    create: (p: string, mode: number, cb: Cb) => ops.create(p, mode, caller, cb),
    mknod: (p: string, mode: number, dev: number, cb: Cb) => ops.mknod(p, mode, dev, caller, cb),
    mkdir: (p: string, mode: number, cb: Cb) => ops.mkdir(p, mode, caller, cb),
    symlink: (target: string, p: string, cb: Cb) => ops.symlink(target, p, caller, cb),
    link: (target: string, p: string, cb: Cb) => ops.link(target, p, caller, cb),
    rename: (from: string, to: string, cb: Cb) => ops.rename(from, to, caller, cb),
    utimens: (p: string, atime: number, mtime: number, cb: Cb) =>
      ops.utimens(p, msTime(atime), msTime(mtime), cb),
  };
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
