/*
 * The shape of the scale benchmark's volume, and the events that make and change it.
 *
 * N inodes under the root: about sqrt(N) directories, each created and then filled with its
 * share of the files before the next is made, the way an ingest fills an archive (1,000,000
 * inodes: 1,000 directories of 999 files). Inode numbers are handed out in creation order from
 * 2 (1 is mkfs's root). Each create is the two events the filesystem logs for it: InodeCreated
 * and DirentAdded into its directory at the next readdir position, with names of about twenty
 * bytes. The changed inodes are a fixed spread over the whole volume (a stride coprime with N),
 * so the benchmark is repeatable without a random generator and never picks one twice.
 */

import type { FsEvent } from '../src/events/event.js';
import { ROOT_INO } from '../src/node/mkfs.js';

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const DT_DIR = 4;
const DT_REG = 8;
const FIRST_POS = 2;
const BASE_SEC = 1_718_000_000;

export interface Tree {
  inodes: number;
  dirs: number;
  files: number;
}

export function treeOf(inodes: number): Tree {
  const dirs = Math.max(1, Math.round(Math.sqrt(inodes)));
  return { inodes, dirs, files: inodes - dirs };
}

/** Every create's events, in order: a directory, then its files, then the next directory. */
export function* creates(t: Tree): Generator<FsEvent[]> {
  let ino = ROOT_INO + 1;
  for (let d = 0; d < t.dirs; d++) {
    const dir = ino++;
    yield create(ROOT_INO, dir, S_IFDIR | 0o755, DT_DIR, FIRST_POS + d, `archive-${pad(d)}`);
    const files = Math.floor(t.files / t.dirs) + (d < t.files % t.dirs ? 1 : 0);
    for (let f = 0; f < files; f++) {
      yield create(dir, ino++, S_IFREG | 0o644, DT_REG, FIRST_POS + f, `obs-${pad(f)}-r1.fits`);
    }
  }
}

/** The same creates as paths for the filesystem API, with the inode number each should get. */
export function* createPaths(t: Tree): Generator<{ path: string; mode: number; ino: number }> {
  let ino = ROOT_INO + 1;
  for (let d = 0; d < t.dirs; d++) {
    const dir = `/archive-${pad(d)}`;
    yield { path: dir, mode: S_IFDIR | 0o755, ino: ino++ };
    const files = Math.floor(t.files / t.dirs) + (d < t.files % t.dirs ? 1 : 0);
    for (let f = 0; f < files; f++)
      yield { path: `${dir}/obs-${pad(f)}-r1.fits`, mode: S_IFREG | 0o644, ino: ino++ };
  }
}

/** `count` distinct inode numbers spread over the tree, with whether each is a directory. */
export function changedInodes(t: Tree, count: number): { ino: number; dir: boolean }[] {
  const n = t.inodes;
  let stride = Math.floor(n * 0.618_033_99) | 1;
  while (gcd(stride, n) !== 1) stride += 2;
  const dirInos = new Set(dirInodes(t));
  return Array.from({ length: Math.min(count, n) }, (_, k) => {
    const ino = ROOT_INO + 1 + ((k * stride + 7) % n);
    return { ino, dir: dirInos.has(ino) };
  });
}

/** The event of a chmod of one of the tree's inodes. */
export function chmod(c: { ino: number; dir: boolean }, k: number): FsEvent {
  const mode = c.dir ? S_IFDIR | 0o750 : S_IFREG | 0o600;
  return { type: 'InodeModeChanged', ino: c.ino, mode, ctime: timeAt(10_000_000 + k) };
}

function dirInodes(t: Tree): number[] {
  const out: number[] = [];
  let ino = ROOT_INO + 1;
  for (let d = 0; d < t.dirs; d++) {
    out.push(ino);
    ino += 1 + Math.floor(t.files / t.dirs) + (d < t.files % t.dirs ? 1 : 0);
  }
  return out;
}

function create(dir: number, ino: number, mode: number, dtype: number, pos: number, name: string): FsEvent[] {
  const time = timeAt(ino);
  return [
    { type: 'InodeCreated', ino, mode, uid: 1000, gid: 1000, rdev: 0, time },
    { type: 'DirentAdded', dir, name: Buffer.from(name), ino, dtype, pos, time },
  ];
}

function timeAt(i: number) {
  return { sec: BASE_SEC + Math.floor(i / 1000), nsec: (i % 1000) * 1_000_000 + 7 };
}

const pad = (n: number) => String(n).padStart(6, '0');

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}
