/*
 * The shape of the scale benchmark's volume, and the creates and changes that make it.
 *
 * N inodes under the root: about sqrt(N) directories, each created and then filled with its
 * share of the files before the next is made, the way an ingest fills an archive (1,000,000
 * inodes: 1,000 directories of 999 files). Inode numbers are handed out in creation order from
 * 2 (1 is mkfs's root); names are about twenty bytes. The changed inodes are a fixed spread over the whole volume (a stride coprime with N),
 * so the benchmark is repeatable without a random generator and never picks one twice.
 */

import { ROOT_INO } from '../src/node/mkfs.js';

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;

export interface Tree {
  inodes: number;
  dirs: number;
  files: number;
}

export function treeOf(inodes: number): Tree {
  const dirs = Math.max(1, Math.round(Math.sqrt(inodes)));
  return { inodes, dirs, files: inodes - dirs };
}

/**
 * Every create, in order (a directory, then its files, then the next directory), as a path for
 * the filesystem API with the inode number it should get.
 */
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

function dirInodes(t: Tree): number[] {
  const out: number[] = [];
  let ino = ROOT_INO + 1;
  for (let d = 0; d < t.dirs; d++) {
    out.push(ino);
    ino += 1 + Math.floor(t.files / t.dirs) + (d < t.files % t.dirs ? 1 : 0);
  }
  return out;
}

const pad = (n: number) => String(n).padStart(6, '0');

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}
