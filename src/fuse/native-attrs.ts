/*
 * The binding's attribute cache (patch 7 of native/fuse-native.patch), seen from JS: the
 * AttrMirror the filesystem keeps exact (attr-mirror.ts).
 *
 * getattr answers that came straight from memory (Fs.statNow, with no change in flight) go to
 * the binding with the cache's generation, and the binding keeps path -> inode and inode ->
 * attributes; later getattrs of that path are answered on the FUSE thread that receives them.
 * Every invalidation moves the generation, so an answer read before one is not kept.
 *
 * `held` is every inode the binding may hold (a superset: an answer the binding refused, or an
 * inode it dropped to stay bounded, stays in it): a change that names none of them needs no
 * call into the binding, and after a change the stale ones among them are put back with their
 * new attributes, so the directory every create, rename and unlink touches is answered from the
 * cache again by the time the kernel checks its permissions for the next one.
 */

import type { InodeRecord } from '../format/item-schema.js';
import type { AttrMirror } from '../fs/attr-mirror.js';

/** What the patched binding offers (fuse-native's index.js, patch 7). */
export interface AttrBinding {
  attrCacheOn(on: boolean): number;
  attrStale(inos: Float64Array, drop: boolean): number;
  attrForget(path: string, subtree: boolean): number;
  attrPut(stat: object, gen: number, path?: string): void;
  attrStats(): number[];
}

/** The binding's own bound (ATTR_MAX in fuse-native.c): beyond it, start again. */
const HELD_MAX = 65536;
/** The longest path the binding takes from JS (4096 bytes with its NUL, less a margin). */
const PATH_MAX = 4000;

export class NativeAttrs implements AttrMirror {
  /** The binding's generation; -1 while the cache is off. */
  private gen = -1;
  private readonly held = new Set<number>();
  /** Inodes staled since the last refresh that the binding may have held. */
  private staled: number[] = [];
  /** Paths the change being made adds, with their inodes. */
  private adds: [string, number][] = [];

  constructor(
    private readonly binding: () => AttrBinding | null,
    private readonly statOf: (r: InodeRecord) => object,
  ) {}

  /** Start caching (after the mount: the binding has no cache before). */
  on(): void {
    const b = this.binding();
    if (!b) return;
    this.held.clear();
    this.staled = [];
    this.adds = [];
    this.gen = b.attrCacheOn(true);
  }

  off(): void {
    if (this.gen < 0) return;
    this.gen = -1;
    this.held.clear();
    this.staled = [];
    this.adds = [];
    this.binding()?.attrCacheOn(false);
  }

  /**
   * A getattr of `rec` answered from memory with nothing in flight: the generation to hand the
   * binding with the answer, or undefined (not cached).
   */
  answered(rec: InodeRecord): number | undefined {
    if (this.gen < 0) return undefined;
    if (this.held.size >= HELD_MAX) this.clear();
    this.held.add(rec.ino);
    return this.gen;
  }

  stale(inos: readonly number[]): void {
    if (this.gen < 0) return;
    let any = false;
    for (const ino of inos) {
      if (this.held.delete(ino)) {
        this.staled.push(ino);
        any = true;
      }
    }
    if (any) this.gen = this.binding()!.attrStale(Float64Array.from(inos), false);
  }

  named(path: string, ino: number): void {
    if (this.gen >= 0 && path.length < PATH_MAX) this.adds.push([path, ino]);
  }

  forget(path: string, subtree: boolean): void {
    if (this.gen < 0) return;
    // a path too long to hand over could be one the binding holds: forget them all
    if (path.length >= PATH_MAX) this.clear();
    else this.gen = this.binding()!.attrForget(path, subtree);
  }

  clear(): void {
    if (this.gen < 0) return;
    this.on();
  }

  refresh(now: (ino: number) => InodeRecord | undefined): void {
    if (this.gen < 0 || (this.staled.length === 0 && this.adds.length === 0)) return;
    const b = this.binding()!;
    const gone: number[] = [];
    // the stale ones first: a getattr may be waiting for them (the directory of the change)
    for (const ino of this.staled) {
      const rec = now(ino);
      if (!rec) gone.push(ino);
      else if (!this.held.has(ino) && !this.adds.some((a) => a[1] === ino)) {
        b.attrPut(this.statOf(rec), this.gen);
        this.held.add(ino);
      }
    }
    for (const [path, ino] of this.adds) {
      const rec = now(ino);
      if (!rec) continue;
      if (this.held.size >= HELD_MAX) this.clear();
      b.attrPut(this.statOf(rec), this.gen, path);
      this.held.add(ino);
    }
    this.staled = [];
    this.adds = [];
    // deleted (or not in memory): dropped, and whoever waits for them asks JS
    if (gone.length > 0) this.gen = b.attrStale(Float64Array.from(gone), true);
  }

  /** [getattrs the binding answered from the cache, paths it holds, inodes it holds]. */
  stats(): [number, number, number] {
    const [hits = 0, paths = 0, inos = 0] = this.binding()?.attrStats() ?? [];
    return [hits, paths, inos];
  }
}
