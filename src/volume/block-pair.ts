/*
 * A block kept twice, for state that is updated in place: the superblock, each log's slot
 * header, the index root.
 *
 * Each copy carries a generation. An update writes the next generation over the copy that is
 * older (or damaged) and syncs, so a torn write can only damage that copy and the other still
 * holds the previous state. A reader decodes both, keeps those that pass every check, and takes
 * the one with the higher generation.
 */

import { type BlockDevice, readBlocks, writeBlocks } from '../device/device.js';
import { blockProblem } from '../format/block.js';
import { BLOCK_SIZE } from '../format/layout.js';

export interface PairSpec<T> {
  /** The two block numbers, copy A then copy B. */
  blocks: readonly [number, number];
  magic: number;
  /** Expected filesystem id; absent only for the superblock, where it is learned. */
  fsid?: Buffer;
  /** Name for messages: "superblock", "log slot 3 header", "index root". */
  what: string;
  decode(block: Buffer): T;
  generation(value: T): number;
  /** A further check of a decoded copy; returns the problem, or null. */
  check?(value: T): string | null;
}

export interface PairCopy<T> {
  which: 'A' | 'B';
  blkno: number;
  value: T | null;
  problem: string | null;
}

export async function readPair<T>(dev: BlockDevice, spec: PairSpec<T>): Promise<PairCopy<T>[]> {
  const [a, b] = spec.blocks;
  const bufs =
    b === a + 1
      ? splitBlocks(await readBlocks(dev, a, 2))
      : await Promise.all([readBlocks(dev, a), readBlocks(dev, b)]);
  return bufs.map((buf, i) => {
    const which = i === 0 ? 'A' : 'B';
    const blkno = spec.blocks[i]!;
    const e = {
      magic: spec.magic,
      blkno,
      what: `${spec.what} ${which}`,
      ...(spec.fsid && { fsid: spec.fsid }),
    };
    let problem = blockProblem(buf, e);
    const value = problem ? null : spec.decode(buf);
    if (value !== null && spec.check) problem = spec.check(value);
    return { which, blkno, value: problem ? null : value, problem };
  });
}

/** The sound copy with the higher generation, or null when neither is sound. */
export function newest<T>(spec: PairSpec<T>, copies: PairCopy<T>[]): T | null {
  let best: T | null = null;
  for (const c of copies) {
    if (c.value !== null && (best === null || spec.generation(c.value) > spec.generation(best)))
      best = c.value;
  }
  return best;
}

/** "superblock A (block 1): bad crc32c ...; superblock B (block 2): ..." */
export function describeProblems<T>(spec: PairSpec<T>, copies: PairCopy<T>[]): string {
  return copies.map((c) => `${spec.what} ${c.which} (block ${c.blkno}): ${c.problem ?? 'sound'}`).join('; ');
}

/**
 * Write the next generation over the older or damaged copy and sync. `encode` gets the
 * generation and the block it is written to; returns the generation written.
 */
export async function writePair<T>(
  dev: BlockDevice,
  spec: PairSpec<T>,
  encode: (generation: number, blkno: number) => Buffer,
): Promise<number> {
  const copies = await readPair(dev, spec);
  const gens = copies.map((c) => (c.value === null ? -1 : spec.generation(c.value)));
  const target = gens[0]! <= gens[1]! ? 0 : 1;
  const generation = Math.max(...gens, 0) + 1;
  const blkno = spec.blocks[target]!;
  await writeBlocks(dev, blkno, encode(generation, blkno));
  await dev.sync();
  return generation;
}

function splitBlocks(both: Buffer): Buffer[] {
  return [both.subarray(0, BLOCK_SIZE), both.subarray(BLOCK_SIZE, 2 * BLOCK_SIZE)];
}
