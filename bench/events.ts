/*
 * Realistic events for the bench: what an archive ingest logs.
 *
 * A file's life in an ingest is four events: its inode is created, a name of about twenty bytes
 * is linked into a directory, a small checksum xattr is set, and its data is written. The pool
 * repeats that rhythm over distinct inodes with wall-clock-sized timestamps, so the encoded
 * sizes (CBOR integers of 4-5 bytes, 20-byte names, 32-byte values) match a live mount rather
 * than a test's tiny numbers. Operations of 1-4 events are consecutive runs of the pool.
 */

import type { FsEvent } from '../src/events/event.js';

export const POOL_EVENTS = 4096;
const FIRST_INO = 1_000_000;
const DIR_INO = 4242;

/** `n` events, four per file: InodeCreated, DirentAdded, XattrSet, DataWritten. */
export function eventPool(n = POOL_EVENTS): FsEvent[] {
  return Array.from({ length: n }, (_, i) => fileEvent(Math.floor(i / 4), i % 4));
}

/** `count` consecutive events of the pool starting at `at`, wrapping around its end. */
export function run(pool: readonly FsEvent[], at: number, count: number): FsEvent[] {
  return Array.from({ length: count }, (_, k) => pool[(at + k) % pool.length]!);
}

/** Operation sizes: a deterministic (xorshift32) sequence of 1..4 events, mean 2.5. */
export function opSizes(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return 1 + ((x >>> 0) % 4);
  };
}

function fileEvent(file: number, step: number): FsEvent {
  const ino = FIRST_INO + file;
  const time = { sec: 1_718_000_000 + file, nsec: (file * 7_919_113) % 1e9 };
  switch (step) {
    case 0:
      return { type: 'InodeCreated', ino, mode: 0o100644, uid: 1000, gid: 1000, rdev: 0, time };
    case 1: {
      const name = Buffer.from(`obs-${String(file).padStart(8, '0')}-r1.fits`);
      return { type: 'DirentAdded', dir: DIR_INO, name, ino, dtype: 8, pos: 2 + file, time };
    }
    case 2: {
      const value = Buffer.alloc(32, file & 0xff);
      return { type: 'XattrSet', ino, name: Buffer.from('user.sha256'), value, ctime: time };
    }
    default: {
      const length = 1024 * 1024 + file * 512;
      return { type: 'DataWritten', ino, offset: 0, length, size: length, time };
    }
  }
}
