/*
 * Paths to inodes: the FUSE binding is path based, so every operation starts by resolving a
 * path through directory items, and the answers are cached here.
 *
 * The cache maps whole paths (and every prefix resolved on the way) to inode numbers. The
 * filesystem keeps it right: a create remembers its new path, unlink, rmdir and rename forget
 * the paths they remove (a directory's whole subtree with it), and a mutation that fails for a
 * reason other than a POSIX error clears it. It is bounded by clearing when full: a miss costs
 * a few item reads, never a wrong answer.
 */

import { ENOENT, FsError } from '../errors.js';
import { LIMITS } from '../format/layout.js';
import { isDir } from '../projections/inode-record.js';
import type { AttrMirror } from './attr-mirror.js';
import type { FsItems } from './fs-items.js';
import { nameBytes, pathComponents, splitPath } from './names.js';

const PATH_CACHE_MAX = 65536;

export class PathCache {
  private readonly paths = new Map<string, number>();
  /** A copy that holds paths too: it forgets whatever this cache forgets (attr-mirror.ts). */
  mirror: AttrMirror | null = null;
  /** Names the change being decided adds (`added`), until `settle`. */
  private adds: { path: string; ino: number; fresh: boolean }[] = [];

  constructor(
    private readonly items: FsItems,
    private readonly rootIno: number,
  ) {}

  /** The inode at `path`; ENOENT or ENOTDIR as a local filesystem gives them. Call under the item lock. */
  async resolve(path: string): Promise<number> {
    const cached = this.paths.get(path);
    if (cached !== undefined) return cached;
    let ino = this.rootIno;
    let at = '';
    for (const name of pathComponents(path)) {
      at += `/${name}`;
      const hit = this.paths.get(at);
      if (hit !== undefined) {
        ino = hit;
        continue;
      }
      const dir = await this.items.inode(ino);
      if (!dir) throw ENOENT(`inode ${ino} does not exist`);
      if (!isDir(dir.mode)) throw new FsError('ENOTDIR', `${at}: a component is not a directory`);
      const d = await this.items.lookup(ino, nameBytes(name));
      if (!d) throw ENOENT(`${at}: no such file or directory`);
      ino = d.ino;
      this.remember(at, ino);
    }
    return ino;
  }

  /**
   * The inode at `path` when the cache and the items in memory can tell at once (the path or
   * its directory cached, the dirent in a memtable or ruled out by the bloom filters); null
   * when there is no such name; undefined when it takes `resolve`. Only with no change in
   * flight (the caller checks the lock).
   */
  now(path: string): number | null | undefined {
    const cached = this.paths.get(path);
    if (cached !== undefined) return cached;
    const { parent, name } = splitPath(path);
    const dir = this.paths.get(parent) ?? (parent === '/' ? this.rootIno : undefined);
    if (dir === undefined || name.length === 0 || name.length > LIMITS.nameMax) return undefined;
    const dirRec = this.items.inodeNow(dir);
    if (!dirRec || !isDir(dirRec.mode)) return undefined;
    const d = this.items.lookupNow(dir, Buffer.from(name, 'latin1'));
    if (d === undefined || d === null) return d;
    this.remember(path, d.ino);
    return d.ino;
  }

  /**
   * A change being decided adds the name `path` for `ino`, `fresh`: a directory it creates
   * (empty). Remembered only once the change's events are appended (`settle`).
   */
  added(path: string, ino: number, fresh = false): void {
    this.adds.push({ path, ino, fresh });
  }

  /** The change being decided was appended (`ok`), or failed: its added names, or none. */
  settle(ok: boolean): void {
    const adds = this.adds;
    if (adds.length === 0) return;
    this.adds = [];
    if (!ok) return;
    for (const a of adds) {
      this.remember(a.path, a.ino);
      this.mirror?.named(a.path, a.ino, a.fresh);
    }
  }

  remember(path: string, ino: number): void {
    if (this.paths.size >= PATH_CACHE_MAX) this.paths.clear();
    this.paths.set(path, ino);
  }

  /** `path` went away (or moved); a directory takes every cached path under it along. */
  forget(path: string, wasDir: boolean): void {
    this.mirror?.forget(path, wasDir);
    this.paths.delete(path);
    if (!wasDir) return;
    const prefix = `${path}/`;
    for (const p of this.paths.keys()) if (p.startsWith(prefix)) this.paths.delete(p);
  }

  clear(): void {
    this.mirror?.clear();
    this.paths.clear();
  }
}
