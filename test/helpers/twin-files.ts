/*
 * Twin files: the same seeded sequence of writes, reads, truncates and appends applied to files
 * on a mount and to copies on the local filesystem, which serve as the model.
 *
 * Every read is made on both and must return the same bytes; sizes are compared through fstat
 * along the way; `assertSameContents` compares whole files. Offsets are chosen to cross block
 * (4 KiB) and FUSE write (128 KiB) boundaries, to land past the end (leaving holes) and inside
 * holes, and lengths run from one byte to a few MiB. Handles are closed and reopened now and
 * then, which drops the kernel's page cache for the file, so later reads reach the filesystem.
 *
 * Data comes from one seeded pattern, with the op number stamped into it every 4093 bytes, so
 * bytes written by one op cannot pass for another op's.
 */

import type { FileHandle } from 'node:fs/promises';
import { open, stat } from 'node:fs/promises';
import { join } from 'node:path';
import * as assert from 'uvu/assert';
import { readFull, writeAll } from './file-io.js';
import { type Rng, rng } from './rng.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const BLOCK = 4 * KiB;
const FUSE_WRITE = 128 * KiB;
const PATTERN_BYTES = 4 * MiB;
const STAMP_EVERY = 4093;
const COMPARE_CHUNK = MiB;

export interface TwinOptions {
  seed: number;
  files: number;
  ops: number;
  /** No file grows past this many bytes. */
  maxSize: number;
}

export interface TwinStats {
  written: number;
  reads: number;
  truncates: number;
  appends: number;
  reopens: number;
}

interface Pair {
  name: string;
  mount: FileHandle;
  local: FileHandle;
  size: number;
}

type Op = 'write' | 'read' | 'truncate' | 'append' | 'reopen' | 'fsync' | 'stat';
const WEIGHTS: [Op, number][] = [
  ['write', 40],
  ['read', 25],
  ['truncate', 8],
  ['append', 8],
  ['reopen', 5],
  ['fsync', 4],
  ['stat', 10],
];

export function twinNames(files: number): string[] {
  return Array.from({ length: files }, (_, i) => `twin-${i}`);
}

/** Run `o.ops` seeded operations on twin files in `mountDir` and `localDir`. */
export async function runTwinOps(mountDir: string, localDir: string, o: TwinOptions): Promise<TwinStats> {
  const r = rng(o.seed);
  const pattern = patternOf(r);
  const stats: TwinStats = { written: 0, reads: 0, truncates: 0, appends: 0, reopens: 0 };
  const pairs: Pair[] = [];
  try {
    for (const name of twinNames(o.files)) {
      pairs.push({
        name,
        mount: await open(join(mountDir, name), 'w+'),
        local: await open(join(localDir, name), 'w+'),
        size: 0,
      });
    }
    for (let op = 0; op < o.ops; op++) {
      const p = pairs[r.int(pairs.length)]!;
      const at = `seed ${o.seed} op ${op} (${p.name}, size ${p.size})`;
      switch (pick(r)) {
        case 'write': {
          const len = pickLength(r, o.maxSize);
          const offset = Math.min(pickOffset(r, p.size), o.maxSize - len);
          const data = dataFor(r, pattern, op, len);
          await both(p, (h) => writeAll(h, data, offset));
          p.size = Math.max(p.size, offset + len);
          stats.written += len;
          break;
        }
        case 'read': {
          const len = 1 + r.int(r.int(4) === 0 ? 2 * MiB : 64 * KiB);
          const offset = Math.max(0, pickOffset(r, p.size) - r.int(2 * BLOCK));
          await compareRange(p, offset, len, at);
          stats.reads += 1;
          break;
        }
        case 'truncate': {
          const size = Math.min(o.maxSize, nearBoundary(r, pickOffset(r, p.size)));
          await both(p, (h) => h.truncate(size));
          p.size = size;
          stats.truncates += 1;
          break;
        }
        case 'append': {
          const len = Math.min(pickLength(r, o.maxSize), o.maxSize - p.size);
          if (len <= 0) break;
          const data = dataFor(r, pattern, op, len);
          for (const dir of [mountDir, localDir]) {
            const h = await open(join(dir, p.name), 'a');
            try {
              await writeAll(h, data, null);
            } finally {
              await h.close();
            }
          }
          p.size += len;
          stats.appends += 1;
          break;
        }
        case 'reopen':
          await both(p, (h) => h.close());
          p.mount = await open(join(mountDir, p.name), 'r+');
          p.local = await open(join(localDir, p.name), 'r+');
          stats.reopens += 1;
          break;
        case 'fsync':
          await p.mount.sync();
          break;
        case 'stat': {
          const [m, l] = [await p.mount.stat(), await p.local.stat()];
          assert.is(m.size, l.size, `${at}: fstat size`);
          assert.is(m.size, p.size, `${at}: fstat size is the model's`);
          break;
        }
      }
    }
  } finally {
    for (const p of pairs) {
      await p.mount.close().catch(() => {});
      await p.local.close().catch(() => {});
    }
  }
  return stats;
}

/** The twin files in the two directories are byte for byte the same. */
export async function assertSameContents(mountDir: string, localDir: string, files: number, what: string) {
  for (const name of twinNames(files)) {
    const [m, l] = [join(mountDir, name), join(localDir, name)];
    assert.is((await stat(m)).size, (await stat(l)).size, `${what}: size of ${name}`);
    const [hm, hl] = [await open(m, 'r'), await open(l, 'r')];
    try {
      const a = Buffer.alloc(COMPARE_CHUNK);
      const b = Buffer.alloc(COMPARE_CHUNK);
      for (let pos = 0; ; pos += COMPARE_CHUNK) {
        const ra = await readFull(hm, a, pos);
        const rb = await readFull(hl, b, pos);
        assert.is(ra, rb, `${what}: ${name} bytes read at ${pos}`);
        const diff = firstDifference(a.subarray(0, ra), b.subarray(0, rb));
        assert.is(diff, -1, `${what}: ${name} differs at byte ${pos + diff}`);
        if (ra < COMPARE_CHUNK) break;
      }
    } finally {
      await hm.close();
      await hl.close();
    }
  }
}

async function compareRange(p: Pair, offset: number, len: number, at: string): Promise<void> {
  const a = Buffer.alloc(len);
  const b = Buffer.alloc(len);
  const ra = await readFull(p.mount, a, offset);
  const rb = await readFull(p.local, b, offset);
  assert.is(ra, rb, `${at}: bytes read at ${offset}+${len}`);
  const diff = firstDifference(a.subarray(0, ra), b.subarray(0, rb));
  assert.is(diff, -1, `${at}: read at ${offset}+${len} differs at byte ${offset + diff}`);
}

async function both(p: Pair, fn: (h: FileHandle) => Promise<unknown>): Promise<void> {
  await fn(p.mount);
  await fn(p.local);
}

function firstDifference(a: Buffer, b: Buffer): number {
  if (a.equals(b)) return -1;
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return i;
  return Math.min(a.length, b.length);
}

function pick(r: Rng): Op {
  let n = r.int(WEIGHTS.reduce((s, [, w]) => s + w, 0));
  for (const [op, w] of WEIGHTS) {
    if (n < w) return op;
    n -= w;
  }
  return 'write';
}

/** Mostly small, sometimes a few blocks, now and then MiBs. */
function pickLength(r: Rng, max: number): number {
  const k = r.int(100);
  let len = 1 + r.int(3 * MiB);
  if (k < 20) len = 1 + r.int(16);
  else if (k < 60) len = 1 + r.int(2 * BLOCK);
  else if (k < 95) len = 1 + r.int(256 * KiB);
  return Math.min(len, max);
}

/** Inside the file, at its end, past it (a hole), or a few bytes around a block boundary. */
function pickOffset(r: Rng, size: number): number {
  switch (r.int(6)) {
    case 0:
      return r.int(size + 1);
    case 1:
      return size;
    case 2:
      return size + r.int(2 * MiB);
    case 3:
      return nearBoundary(r, r.int(size + MiB));
    case 4:
      return Math.max(0, Math.floor(r.int(size + MiB) / FUSE_WRITE) * FUSE_WRITE + r.int(9) - 4);
    default:
      return r.int(Math.max(1, size - BLOCK));
  }
}

/** `at`, or the block boundary below it give or take a few bytes. */
function nearBoundary(r: Rng, at: number): number {
  if (r.int(2) === 0) return at;
  return Math.max(0, Math.floor(at / BLOCK) * BLOCK + r.int(9) - 4);
}

function patternOf(r: Rng): Buffer {
  const b = Buffer.alloc(PATTERN_BYTES);
  for (let i = 0; i < PATTERN_BYTES; i += 4) b.writeUInt32LE(Math.floor(r.next() * 2 ** 32), i);
  return b;
}

function dataFor(r: Rng, pattern: Buffer, op: number, len: number): Buffer {
  const from = r.int(PATTERN_BYTES - len + 1);
  const data = Buffer.from(pattern.subarray(from, from + len));
  for (let i = 0; i + 4 <= len; i += STAMP_EVERY) data.writeUInt32LE(op, i);
  return data;
}
