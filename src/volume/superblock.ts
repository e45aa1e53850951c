/*
 * Reading and writing the superblock pair.
 *
 * The superblock is kept twice (blocks 1 and 2). An update writes the copy that is older (or
 * damaged) with the next generation and syncs, so a torn superblock write always leaves the
 * other copy whole. A reader takes the sound copy with the higher generation, and only then
 * checks what the superblock says: the format version and the format hash, so a device made by
 * different format definitions is refused with both hashes named.
 */

import { type BlockDevice, readBlocks, writeBlocks } from '../device/device.js';
import { FsError } from '../errors.js';
import { BLOCK_HEADER_BYTES, blockProblem, sealBlock } from '../format/block.js';
import { FORMAT_HASH, FORMAT_HASH_HEX } from '../format/format-hash.js';
import {
  BLOCK_SIZE,
  blockHeader,
  MAGIC,
  SUPERBLOCK_BLOCKS,
  type Superblock,
  superblock,
} from '../format/layout.js';

export interface SuperblockCopy {
  which: 'A' | 'B';
  blkno: number;
  superblock: Superblock | null;
  problem: string | null;
}

/** Both copies, each decoded or with the reason it is unusable. */
export async function readSuperblockCopies(dev: BlockDevice): Promise<SuperblockCopy[]> {
  return Promise.all(
    SUPERBLOCK_BLOCKS.map(async (blkno, i): Promise<SuperblockCopy> => {
      const which = i === 0 ? 'A' : 'B';
      if ((blkno + 1) * BLOCK_SIZE > dev.size)
        return { which, blkno, superblock: null, problem: 'beyond the device' };
      const buf = await readBlocks(dev, blkno);
      const problem = blockProblem(buf, { magic: MAGIC.superblock, blkno, what: `superblock ${which}` });
      return { which, blkno, superblock: problem ? null : decodeSuperblock(buf), problem };
    }),
  );
}

/**
 * The superblock to trust, or an FsError saying why there is none: not ours (no magic in
 * either copy), damaged (both fail their checks), or from another format.
 */
export async function readSuperblock(dev: BlockDevice): Promise<Superblock> {
  const copies = await readSuperblockCopies(dev);
  const sound = copies.filter((c) => c.superblock).map((c) => c.superblock!);
  if (sound.length === 0) {
    if (copies.every((c) => c.problem?.startsWith('bad magic') || c.problem === 'beyond the device')) {
      throw new FsError(
        'EINVAL',
        `${dev.name} is not a scoutfs filesystem (no superblock magic in blocks 1 and 2)`,
      );
    }
    const why = copies.map((c) => `superblock ${c.which} (block ${c.blkno}): ${c.problem}`).join('; ');
    throw new FsError('EIO', `${dev.name}: no usable superblock: ${why}`);
  }
  const sb = sound.reduce((a, b) => (b.generation > a.generation ? b : a));
  if (!sb.formatHash.equals(FORMAT_HASH)) {
    throw new FsError(
      'EINVAL',
      `${dev.name}: format hash mismatch: the device has ${sb.formatHash.toString('hex')}, ` +
        `this scoutfs has ${FORMAT_HASH_HEX}`,
    );
  }
  if (sb.blockSize !== BLOCK_SIZE)
    throw new FsError('EINVAL', `${dev.name}: block size ${sb.blockSize} unsupported`);
  if (sb.totalBlocks * BLOCK_SIZE > dev.size) {
    throw new FsError(
      'EINVAL',
      `${dev.name}: superblock says ${sb.totalBlocks * BLOCK_SIZE} bytes but the device has ${dev.size}`,
    );
  }
  return sb;
}

/**
 * Write a new generation of the superblock over the copy that is older or damaged, and sync.
 * Returns the superblock as written.
 */
export async function writeSuperblock(
  dev: BlockDevice,
  next: Omit<Superblock, 'generation'>,
): Promise<Superblock> {
  const copies = await readSuperblockCopies(dev);
  const gens = copies.map((c) => c.superblock?.generation ?? -1);
  const target = gens[0]! <= gens[1]! ? 0 : 1;
  const sb: Superblock = { ...next, generation: Math.max(...gens, 0) + 1 };
  await writeBlocks(dev, SUPERBLOCK_BLOCKS[target], encodeSuperblock(sb, SUPERBLOCK_BLOCKS[target]));
  await dev.sync();
  return sb;
}

export function encodeSuperblock(sb: Superblock, blkno: number): Buffer {
  const buf = Buffer.alloc(BLOCK_SIZE);
  superblock.encode(sb, buf, BLOCK_HEADER_BYTES);
  return sealBlock(buf, { magic: MAGIC.superblock, fsid: sb.fsid, seq: sb.generation, blkno });
}

function decodeSuperblock(buf: Buffer): Superblock {
  const h = blockHeader.decode(buf, 0);
  return { ...superblock.decode(buf, BLOCK_HEADER_BYTES), fsid: h.fsid };
}
