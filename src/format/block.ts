/*
 * Sealing and checking metadata blocks.
 *
 * Every metadata block starts with a block header: magic (what the block is), crc32c (of the
 * whole block after the crc field, with the magic), fsid (which filesystem wrote it), seq (the
 * transaction or generation it was written at) and blkno (where it belongs). A block is only
 * trusted when all five agree with what the reader expected; otherwise the reader gets an EIO
 * that names the block and says which check failed.
 */

import { EIO } from '../errors.js';
import { crc32c } from './crc32c.js';
import { BLOCK_SIZE, type BlockHeader, blockHeader } from './layout.js';

export const BLOCK_HEADER_BYTES = blockHeader.size;
const CRC_OFFSET = 4;
const CRC_END = 8;

export function blockCrc(buf: Buffer, end = buf.length): number {
  return crc32c(buf, CRC_END, end, crc32c(buf, 0, CRC_OFFSET));
}

/** Write the header into the first bytes of `buf` (one block) and set its crc. */
export function sealBlock(buf: Buffer, h: Omit<BlockHeader, 'crc'>): Buffer {
  blockHeader.encode({ ...h, crc: 0 }, buf, 0);
  buf.writeUInt32BE(blockCrc(buf), CRC_OFFSET);
  return buf;
}

export interface BlockExpectation {
  magic: number;
  blkno: number;
  /** Omitted only when reading the superblock, which is where the fsid is learned. */
  fsid?: Buffer;
  /** Human name of the block for messages: "superblock A", "log slot 3 header". */
  what: string;
}

/** The reason a block fails its checks, or null when it is sound. */
export function blockProblem(buf: Buffer, e: BlockExpectation): string | null {
  if (buf.length !== BLOCK_SIZE) return `is ${buf.length} bytes, not ${BLOCK_SIZE}`;
  const h = blockHeader.decode(buf, 0);
  if (h.magic !== e.magic) {
    return `bad magic 0x${h.magic.toString(16).padStart(8, '0')} (expected 0x${e.magic.toString(16)})`;
  }
  const crc = blockCrc(buf);
  if (h.crc !== crc) return `bad crc32c (stored 0x${hex32(h.crc)}, computed 0x${hex32(crc)})`;
  if (h.blkno !== e.blkno) return `claims to be block ${h.blkno}`;
  if (e.fsid && !h.fsid.equals(e.fsid)) {
    return `belongs to filesystem ${h.fsid.toString('hex')}, not ${e.fsid.toString('hex')}`;
  }
  return null;
}

/** Check a block and return its header, or throw EIO naming the block and the failed check. */
export function checkBlock(buf: Buffer, e: BlockExpectation): BlockHeader {
  const problem = blockProblem(buf, e);
  if (problem) throw EIO(`${e.what} (block ${e.blkno}) ${problem}`);
  return blockHeader.decode(buf, 0);
}

export const hex32 = (n: number): string => n.toString(16).padStart(8, '0');
