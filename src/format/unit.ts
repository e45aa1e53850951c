/*
 * Metadata units: a block header, a unit header and a payload, over one or more whole blocks.
 *
 * Runs, their indexes and bloom filters, and manifests are written as units. The crc covers
 * every byte of every block of the unit, so a unit is trusted as a whole or not at all, and
 * like any metadata block it names its magic, filesystem, seq and location.
 */

import { EIO } from '../errors.js';
import { BLOCK_HEADER_BYTES, blockCrc, sealBlock } from './block.js';
import { BLOCK_SIZE, blockHeader, unitHeader } from './layout.js';

export const UNIT_HEADER_BYTES = BLOCK_HEADER_BYTES + unitHeader.size;

export const unitBlocks = (payloadBytes: number) =>
  Math.ceil((UNIT_HEADER_BYTES + payloadBytes) / BLOCK_SIZE);

export interface UnitAddress {
  magic: number;
  fsid: Buffer;
  seq: number;
  blkno: number;
}

export function sealUnit(a: UnitAddress, payload: Buffer): Buffer {
  const blocks = unitBlocks(payload.length);
  const buf = Buffer.alloc(blocks * BLOCK_SIZE);
  unitHeader.encode({ blocks, payloadBytes: payload.length }, buf, BLOCK_HEADER_BYTES);
  payload.copy(buf, UNIT_HEADER_BYTES);
  return sealBlock(buf, a);
}

/** The number of blocks a unit claims, from its first block (unchecked: only a read size). */
export function claimedBlocks(first: Buffer): number {
  return unitHeader.decode(first, BLOCK_HEADER_BYTES).blocks;
}

/** Check a whole unit; returns its payload and seq, or throws EIO naming the unit. */
export function openUnit(
  buf: Buffer,
  e: { magic: number; fsid: Buffer; blkno: number; what: string },
): { payload: Buffer; seq: number } {
  const h = blockHeader.decode(buf, 0);
  if (h.magic !== e.magic)
    throw EIO(`${e.what} (block ${e.blkno}) bad magic ${hex(h.magic)} (expected ${hex(e.magic)})`);
  const u = unitHeader.decode(buf, BLOCK_HEADER_BYTES);
  if (u.blocks * BLOCK_SIZE !== buf.length || UNIT_HEADER_BYTES + u.payloadBytes > buf.length) {
    throw EIO(`${e.what} (block ${e.blkno}) has a bad length (${u.blocks} blocks, ${u.payloadBytes} bytes)`);
  }
  const crc = blockCrc(buf);
  if (crc !== h.crc)
    throw EIO(`${e.what} (block ${e.blkno}) bad crc32c (stored ${hex(h.crc)}, computed ${hex(crc)})`);
  if (h.blkno !== e.blkno) throw EIO(`${e.what} (block ${e.blkno}) claims to be block ${h.blkno}`);
  if (!h.fsid.equals(e.fsid))
    throw EIO(`${e.what} (block ${e.blkno}) belongs to filesystem ${h.fsid.toString('hex')}`);
  return { payload: buf.subarray(UNIT_HEADER_BYTES, UNIT_HEADER_BYTES + u.payloadBytes), seq: h.seq };
}

const hex = (n: number) => `0x${n.toString(16).padStart(8, '0')}`;
