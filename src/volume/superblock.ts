/*
 * Reading the superblock pair (mkfs writes both copies).
 *
 * The superblock is kept twice (blocks 1 and 2) as a block pair (block-pair.ts), so a later
 * update, by the cluster's server, can never leave no whole copy. A reader takes the sound copy
 * with the higher generation, and only then
 * checks what the superblock says: the format version and the format hash, so a device made by
 * different format definitions is refused with both hashes named.
 */

import type { BlockDevice } from '../device/device.js';
import { FsError } from '../errors.js';
import { BLOCK_HEADER_BYTES, sealBlock } from '../format/block.js';
import { FORMAT_HASH, FORMAT_HASH_HEX } from '../format/format-hash.js';
import {
  BLOCK_SIZE,
  blockHeader,
  MAGIC,
  SUPERBLOCK_BLOCKS,
  type Superblock,
  superblock,
} from '../format/layout.js';
import { type PairSpec, readPair } from './block-pair.js';

export interface SuperblockCopy {
  which: 'A' | 'B';
  blkno: number;
  superblock: Superblock | null;
  problem: string | null;
}

const SPEC: PairSpec<Superblock> = {
  blocks: SUPERBLOCK_BLOCKS,
  magic: MAGIC.superblock,
  what: 'superblock',
  decode: (buf) => ({ ...superblock.decode(buf, BLOCK_HEADER_BYTES), fsid: blockHeader.decode(buf, 0).fsid }),
  generation: (sb) => sb.generation,
};

/** Both copies, each decoded or with the reason it is unusable. */
export async function readSuperblockCopies(dev: BlockDevice): Promise<SuperblockCopy[]> {
  if ((SUPERBLOCK_BLOCKS[1] + 1) * BLOCK_SIZE > dev.size) {
    return SUPERBLOCK_BLOCKS.map((blkno, i) => ({
      which: i ? 'B' : 'A',
      blkno,
      superblock: null,
      problem: 'beyond the device',
    }));
  }
  const copies = await readPair(dev, SPEC);
  return copies.map((c) => ({ which: c.which, blkno: c.blkno, superblock: c.value, problem: c.problem }));
}

/**
 * The superblock to trust, or an FsError saying why there is none: not ours (no magic in
 * either copy), damaged (both fail their checks), or from another format.
 */
export async function readSuperblock(dev: BlockDevice): Promise<Superblock> {
  const copies = await readSuperblockCopies(dev);
  const sb = copies.reduce<Superblock | null>(
    (best, c) => (c.superblock && (!best || c.superblock.generation > best.generation) ? c.superblock : best),
    null,
  );
  if (!sb) {
    if (copies.every((c) => c.problem?.startsWith('bad magic') || c.problem === 'beyond the device')) {
      throw new FsError(
        'EINVAL',
        `${dev.name} is not a scoutfs filesystem (no superblock magic in blocks 1 and 2)`,
      );
    }
    const why = copies.map((c) => `superblock ${c.which} (block ${c.blkno}): ${c.problem}`).join('; ');
    throw new FsError('EIO', `${dev.name}: no usable superblock: ${why}`);
  }
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

export function encodeSuperblock(sb: Superblock, blkno: number): Buffer {
  const buf = Buffer.alloc(BLOCK_SIZE);
  superblock.encode(sb, buf, BLOCK_HEADER_BYTES);
  return sealBlock(buf, { magic: MAGIC.superblock, fsid: sb.fsid, seq: sb.generation, blkno });
}
