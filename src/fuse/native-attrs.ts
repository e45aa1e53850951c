/*
 * The binding's attribute cache (patch 7 of native/fuse-native.patch), seen from JS: the
 * AttrMirror the filesystem keeps exact (attr-mirror.ts).
 *
 * getattr answers that came straight from memory (Fs.statNow, with no change in flight) go to
 * the binding with the cache's generation, and the binding keeps path -> inode and inode ->
 * attributes; later getattrs of that path are answered on the FUSE thread that receives them.
 * Every invalidation moves the generation, so an answer read before one is not kept.
 *
 * A change makes the attributes of the inodes it names that the binding holds pending (the
 * binding says which); once it is folded they are put back with their new attributes, and so
 * are the paths it added, so the directory every create, rename and unlink touches is answered
 * from the cache again as soon as the change is in the index: the kernel's permission check of
 * the next operation waits for that in the binding rather than queueing behind the fold in JS.
 *
 * The binding moves its generation on by one with every invalidation; this side counts along
 * (`gen`), so it never reads the binding's back. Were the two ever to differ, answers would
 * only be refused: an answer read before an invalidation can never carry the generation after.
 */

import type { InodeRecord } from '../format/item-schema.js';
import type { AttrMirror } from '../fs/attr-mirror.js';
import { BLKSIZE } from './operations.js';

/** What the patched binding offers (fuse-native's index.js, patch 7). */
export interface AttrBinding {
  attrCacheOn(on: boolean): number;
  attrStale(inos: Float64Array, drop: boolean): number;
  attrForget(path: string, subtree: boolean): number;
  attrPut(stat: Uint32Array, gen: number, path?: string, complete?: boolean): void;
  attrStats(): number[];
}

/** The longest path the binding takes from JS (4096 bytes with its NUL, less a margin). */
const PATH_MAX = 4000;

export class NativeAttrs implements AttrMirror {
  /** The binding's generation; -1 while the cache is off. */
  private gen = -1;
  /** Inodes the binding holds that changes since the last refresh made pending. */
  private pending: number[] = [];
  /** Paths the change being made adds, with their inodes, and whether each is a new directory. */
  private adds: { path: string; ino: number; fresh: boolean }[] = [];
  /** Paths the change being decided forgets, let go of at its `stale`. */
  private forgets: { path: string; subtree: boolean }[] = [];
  /** Whether a change since the last refresh made anything pending or let go of names. */
  private touched = false;
  /** One stat, as the binding reads it (populate_stat), reused for every put. */
  private readonly ints = new Uint32Array(21);

  constructor(private readonly binding: () => AttrBinding | null) {}

  /** Start caching (after the mount: the binding has no cache before), or start again empty. */
  on(): void {
    const b = this.binding();
    if (!b) return;
    this.pending = [];
    this.adds = [];
    this.forgets = [];
    this.touched = false;
    this.gen = b.attrCacheOn(true);
  }

  off(): void {
    if (this.gen < 0) return;
    this.gen = -1;
    this.pending = [];
    this.adds = [];
    this.forgets = [];
    this.binding()?.attrCacheOn(false);
  }

  /**
   * A getattr answered with a record read with nothing in flight (or under the lock): the
   * generation to hand the binding with the answer, or undefined (not cached).
   */
  answered(rec: InodeRecord): number | undefined {
    // the binding's stat carries 32 bits of inode number: a larger one is not cached
    return this.gen < 0 || rec.ino >= 2 ** 32 ? undefined : this.gen;
  }

  stale(inos: readonly number[]): void {
    if (this.gen < 0) return;
    const b = this.binding()!;
    this.touched = true;
    if (inos.length > 0) {
      const arr = Float64Array.from(inos);
      const held = b.attrStale(arr, false);
      this.gen += 1;
      for (let i = 0; i < held; i++) this.pending.push(arr[i]!);
    }
    // the directories of the names are pending now: no one sees them gone before the change
    for (const f of this.forgets) this.gen = b.attrForget(f.path, f.subtree);
    this.forgets = [];
  }

  named(path: string, ino: number, fresh: boolean): void {
    if (this.gen < 0) return;
    // a name the binding cannot be given would be missing from a complete directory
    if (path.length >= PATH_MAX) this.on();
    else this.adds.push({ path, ino, fresh });
  }

  forget(path: string, subtree: boolean): void {
    if (this.gen < 0) return;
    // a path too long to hand over could be one the binding holds: forget them all
    if (path.length >= PATH_MAX) this.on();
    else this.forgets.push({ path, subtree });
  }

  clear(): void {
    if (this.gen >= 0) this.on();
  }

  refresh(now: (ino: number) => InodeRecord | undefined, failed = false): void {
    if (this.gen < 0) return;
    // names a change let go of may still exist if it failed, names it added may exist though
    // they were dropped, and names never appended may exist still: in a complete directory a
    // missing name means none, so start again
    if (this.forgets.length > 0 || (failed && this.touched)) this.on();
    this.touched = false;
    if (this.pending.length === 0 && this.adds.length === 0) return;
    const b = this.binding()!;
    const { pending, adds } = this;
    this.pending = [];
    this.adds = [];
    const gone: number[] = [];
    // the new names first: once its directory is no longer pending, a name missing from a
    // complete directory reads as none
    for (const a of adds) {
      const rec = now(a.ino);
      if (rec && rec.ino < 2 ** 32) b.attrPut(this.fill(rec), this.gen, a.path, a.fresh);
    }
    const done = new Set<number>();
    for (const ino of pending) {
      if (done.has(ino) || adds.some((a) => a.ino === ino)) continue;
      done.add(ino);
      const rec = now(ino);
      if (rec) b.attrPut(this.fill(rec), this.gen);
      else gone.push(ino);
    }
    // deleted (or not in memory): dropped, and whoever waits for them asks JS
    if (gone.length > 0) {
      b.attrStale(Float64Array.from(gone), true);
      this.gen += 1;
    }
  }

  /**
   * [getattrs the binding answered from the cache, paths it holds, inodes it holds, getattrs it
   * answered ENOENT because a complete directory has no such name].
   */
  stats(): [number, number, number, number] {
    const [hits = 0, paths = 0, inos = 0, negative = 0] = this.binding()?.attrStats() ?? [];
    return [hits, paths, inos, negative];
  }

  /** `rec` as a stat array: what statOf and the binding's getStatArray make of it. */
  private fill(r: InodeRecord): Uint32Array {
    const a = this.ints;
    a[0] = r.mode;
    a[1] = r.uid;
    a[2] = r.gid;
    a[3] = r.size % 2 ** 32;
    a[4] = Math.floor(r.size / 2 ** 32);
    a[5] = 0; // dev
    a[6] = r.nlink;
    a[7] = r.ino;
    a[8] = r.rdev;
    a[9] = BLKSIZE;
    const blocks = r.onlineBlocks * 8;
    a[10] = blocks % 2 ** 32;
    a[11] = Math.floor(blocks / 2 ** 32);
    time(a, 12, r.atimeSec, r.atimeNsec);
    time(a, 15, r.mtimeSec, r.mtimeNsec);
    time(a, 18, r.ctimeSec, r.ctimeNsec);
    return a;
  }
}

/** Seconds low 32 bits, seconds high (signed), nanoseconds: the binding's time triple. */
function time(a: Uint32Array, at: number, sec: number, nsec: number): void {
  a[at] = sec % 2 ** 32;
  a[at + 1] = Math.floor(sec / 2 ** 32);
  a[at + 2] = nsec;
}
