/*
 * The header of a node's log region: where the oldest retained record is.
 *
 * Two copies (blocks 0 and 1 of the region), updated alternately with a growing generation like
 * the superblock, so moving the tail (after a checkpoint) is atomic: a reader sees the old tail
 * or the new one. The log's records start at block 2 of the region.
 */

import { readBlocks, writeBlocks } from '../device/device.js';
import { EIO } from '../errors.js';
import { BLOCK_HEADER_BYTES, blockProblem, sealBlock } from '../format/block.js';
import {
  BLOCK_SIZE,
  MAGIC,
  SLOT_HEADER_BLOCKS,
  type SlotHeader,
  slotHeader,
  slotStart,
} from '../format/layout.js';
import type { Volume } from '../volume/volume.js';

export const FIRST_RECORD_BLOCK = SLOT_HEADER_BLOCKS;

export async function readSlotHeader(vol: Volume, slot: number): Promise<SlotHeader> {
  const copies = await readCopies(vol, slot);
  const sound = copies.filter((c): c is SlotHeader => !('problem' in c));
  if (sound.length === 0) {
    const why = copies.map((c) => ('problem' in c ? c.problem : '')).join('; ');
    throw EIO(`log slot ${slot} header: ${why}`);
  }
  return sound.reduce((a, b) => (b.generation > a.generation ? b : a));
}

/** Write the next generation of the slot header over the older copy, and sync. */
export async function writeSlotHeader(vol: Volume, h: Omit<SlotHeader, 'generation'>): Promise<SlotHeader> {
  const copies = await readCopies(vol, h.slot);
  const gens = copies.map((c) => ('problem' in c ? -1 : c.generation));
  const target = gens[0]! <= gens[1]! ? 0 : 1;
  const next: SlotHeader = { ...h, generation: Math.max(...gens, 0) + 1 };
  await writeBlocks(vol.dev, slotStart(vol.sb, h.slot) + target, encodeSlotHeader(vol, next, target));
  await vol.dev.sync();
  return next;
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
  return Buffer.concat([encodeSlotHeader(vol, h, 0), encodeSlotHeader(vol, h, 1)]);
}

function encodeSlotHeader(vol: Volume, h: SlotHeader, copy: number): Buffer {
  const buf = Buffer.alloc(BLOCK_SIZE);
  slotHeader.encode(h, buf, BLOCK_HEADER_BYTES);
  return sealBlock(buf, {
    magic: MAGIC.slotHeader,
    fsid: vol.sb.fsid,
    seq: h.generation,
    blkno: slotStart(vol.sb, h.slot) + copy,
  });
}

async function readCopies(vol: Volume, slot: number): Promise<(SlotHeader | { problem: string })[]> {
  const start = slotStart(vol.sb, slot);
  const both = await readBlocks(vol.dev, start, 2);
  return [0, 1].map((i) => {
    const buf = both.subarray(i * BLOCK_SIZE, (i + 1) * BLOCK_SIZE);
    const what = `log slot ${slot} header ${i === 0 ? 'A' : 'B'}`;
    const problem = blockProblem(buf, { magic: MAGIC.slotHeader, blkno: start + i, fsid: vol.sb.fsid, what });
    if (problem) return { problem: `${what} (block ${start + i}) ${problem}` };
    const h = slotHeader.decode(buf, BLOCK_HEADER_BYTES);
    if (h.slot !== slot) return { problem: `${what} claims slot ${h.slot}` };
    return h;
  });
}
