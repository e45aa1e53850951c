/*
 * The header of a node's log region: where the oldest retained record is.
 *
 * Two copies (blocks 0 and 1 of the region), updated alternately with a growing generation like
 * the superblock, so moving the tail (after a checkpoint) is atomic: a reader sees the old tail
 * or the new one. The log's records start at block 2 of the region.
 */

import { EIO } from '../errors.js';
import { BLOCK_HEADER_BYTES, sealBlock } from '../format/block.js';
import {
  BLOCK_SIZE,
  MAGIC,
  SLOT_HEADER_BLOCKS,
  type SlotHeader,
  slotHeader,
  slotStart,
} from '../format/layout.js';
import { describeProblems, newest, type PairSpec, readPair, writePair } from '../volume/block-pair.js';
import type { Volume } from '../volume/volume.js';

export const FIRST_RECORD_BLOCK = SLOT_HEADER_BLOCKS;

function spec(vol: Volume, slot: number): PairSpec<SlotHeader> {
  const start = slotStart(vol.sb, slot);
  return {
    blocks: [start, start + 1],
    magic: MAGIC.slotHeader,
    fsid: vol.sb.fsid,
    what: `log slot ${slot} header`,
    decode: (buf) => slotHeader.decode(buf, BLOCK_HEADER_BYTES),
    generation: (h) => h.generation,
    check: (h) => (h.slot === slot ? null : `claims slot ${h.slot}`),
  };
}

export async function readSlotHeader(vol: Volume, slot: number): Promise<SlotHeader> {
  const s = spec(vol, slot);
  const copies = await readPair(vol.dev, s);
  const h = newest(s, copies);
  if (!h) throw EIO(`no usable log slot ${slot} header: ${describeProblems(s, copies)}`);
  return h;
}

/** Write the next generation of the slot header over the older copy, and sync. */
export async function writeSlotHeader(vol: Volume, h: Omit<SlotHeader, 'generation'>): Promise<SlotHeader> {
  let written!: SlotHeader;
  await writePair(vol.dev, spec(vol, h.slot), (generation, blkno) => {
    written = { ...h, generation };
    return encodeSlotHeader(vol, written, blkno);
  });
  return written;
}

/** Both copies of a fresh header, for mkfs (no sync: mkfs syncs once at the end). */
export function initialSlotHeaders(vol: Volume, slot: number): Buffer {
  const h: SlotHeader = {
    slot,
    generation: 1,
    tailLsn: 1,
    tailBlock: FIRST_RECORD_BLOCK,
    tailSeq: 0,
    tailEpoch: 0,
    epoch: 0,
  };
  const start = slotStart(vol.sb, slot);
  return Buffer.concat([encodeSlotHeader(vol, h, start), encodeSlotHeader(vol, h, start + 1)]);
}

function encodeSlotHeader(vol: Volume, h: SlotHeader, blkno: number): Buffer {
  const buf = Buffer.alloc(BLOCK_SIZE);
  slotHeader.encode(h, buf, BLOCK_HEADER_BYTES);
  return sealBlock(buf, { magic: MAGIC.slotHeader, fsid: vol.sb.fsid, seq: h.generation, blkno });
}
