/*
 * The device layout: block size, magics, fixed structs and the regions mkfs carves out.
 *
 *   block 0            left zero (room for a partition table or another tool's signature check)
 *   blocks 1, 2        superblock copies A and B; the valid one with the higher generation wins
 *   quorum region      one block per quorum slot, for heartbeats and elections
 *   log region         one fixed-size circular log per node slot; each starts with two slot
 *                      header blocks (A/B, same rule as the superblock) then records
 *   meta region        LSM runs and manifests
 *   data region        file contents
 *
 * Everything the device holds as metadata is a whole block that starts with a block header
 * (magic, crc32c, fsid, seq, block number), so a block read from the wrong place, from another
 * filesystem, or half-written is recognised as such. Log records are the exception that proves
 * the rule: a record spans whole blocks and its header carries the same checks.
 */

import { defineStruct, type StructOf } from './struct.js';

export const BLOCK_SIZE = 4096;
export const FORMAT_VERSION = 1;

export const MAGIC = {
  superblock: 0x5346_5342, // 'SFSB'
  slotHeader: 0x5346_534c, // 'SFSL'
  record: 0x5346_5452, // 'SFTR'
  quorum: 0x5346_5155, // 'SFQU'
  indexRoot: 0x5346_4952, // 'SFIR'
  manifest: 0x5346_4d46, // 'SFMF'
  runData: 0x5346_5244, // 'SFRD'
  runIndex: 0x5346_5249, // 'SFRI'
  runBloom: 0x5346_5242, // 'SFRB'
} as const;

/** The index root pair: the first two blocks of the meta region; runs and manifests follow. */
export const INDEX_ROOT_BLOCKS = 2;

export const SUPERBLOCK_BLOCKS = [1, 2] as const;
export const QUORUM_START = 3;
/** scoutfs allows up to 15 quorum members; the region is sized for that many. */
export const QUORUM_SLOTS = 15;
export const SLOT_HEADER_BLOCKS = 2;
/** Largest single log record: bounds a transaction's size and the memory a reader needs. */
export const MAX_RECORD_BYTES = 512 * 1024;
/** Record flag: no transaction here; the record with this lsn is at the region's first record block. */
export const RECORD_FLAG_WRAP = 1;

export const LIMITS = {
  nameMax: 255,
  pathMax: 4096,
  symlinkMax: 4095,
  xattrNameMax: 255,
  xattrSizeMax: 65536,
  maxNodes: 64,
} as const;

export const blockHeader = defineStruct('block_header', [
  ['magic', 'u32'],
  ['crc', 'u32'],
  ['fsid', 'b8'],
  ['seq', 'u64'],
  ['blkno', 'u64'],
] as const);
export type BlockHeader = StructOf<typeof blockHeader.def>;

export const superblock = defineStruct('superblock', [
  ['formatHash', 'b8'],
  ['uuid', 'b16'],
  ['version', 'u32'],
  ['generation', 'u64'],
  ['blockSize', 'u32'],
  ['totalBlocks', 'u64'],
  ['quorumCount', 'u8'],
  ['quorumSlots', 'u8'],
  ['logSlots', 'u16'],
  ['quorumStart', 'u64'],
  ['logStart', 'u64'],
  ['logBlocksPerSlot', 'u64'],
  ['metaStart', 'u64'],
  ['metaBlocks', 'u64'],
  ['dataStart', 'u64'],
  ['dataBlocks', 'u64'],
  ['rootIno', 'u64'],
  ['nextIno', 'u64'],
  ['createdSec', 'u64'],
] as const);
export type Superblock = StructOf<typeof superblock.def> & { fsid: Buffer };

export const slotHeader = defineStruct('log_slot_header', [
  ['slot', 'u16'],
  ['generation', 'u64'],
  ['tailLsn', 'u64'],
  ['tailBlock', 'u64'],
  ['tailSeq', 'u64'],
  ['tailEpoch', 'u64'],
  ['epoch', 'u64'],
] as const);
export type SlotHeader = StructOf<typeof slotHeader.def>;

/** After the block header of a metadata unit that may span several blocks. */
export const unitHeader = defineStruct('unit_header', [
  ['blocks', 'u32'],
  ['payloadBytes', 'u32'],
] as const);

export const indexRoot = defineStruct('index_root', [
  ['generation', 'u64'],
  ['manifestBlock', 'u64'],
  ['manifestBlocks', 'u32'],
] as const);
export type IndexRoot = StructOf<typeof indexRoot.def>;

export const recordHeader = defineStruct('log_record_header', [
  ['magic', 'u32'],
  ['crc', 'u32'],
  ['fsid', 'b8'],
  ['lsn', 'u64'],
  ['seq', 'u64'],
  ['epoch', 'u64'],
  ['block', 'u64'],
  ['slot', 'u16'],
  ['flags', 'u16'],
  ['count', 'u32'],
  ['payloadBytes', 'u32'],
  ['commitMs', 'u64'],
] as const);
export type RecordHeader = StructOf<typeof recordHeader.def>;

export interface LayoutOptions {
  totalBytes: number;
  logSlots: number;
  quorumCount: number;
  /** Blocks per node log; default scales with the device. */
  logBlocksPerSlot?: number;
  /** Blocks for LSM runs; default a quarter of what is left after the logs. */
  metaBlocks?: number;
}

export type Layout = Pick<
  Superblock,
  | 'blockSize'
  | 'totalBlocks'
  | 'quorumCount'
  | 'quorumSlots'
  | 'logSlots'
  | 'quorumStart'
  | 'logStart'
  | 'logBlocksPerSlot'
  | 'metaStart'
  | 'metaBlocks'
  | 'dataStart'
  | 'dataBlocks'
>;

const MiB = 1024 * 1024;
/** Below this the logs, index and data regions are each too small to be of use. */
export const MIN_DEVICE_BYTES = 64 * MiB;
const MIN_LOG_BLOCKS = (2 * MiB) / BLOCK_SIZE;
const MAX_DEFAULT_LOG_BLOCKS = (256 * MiB) / BLOCK_SIZE;

/** Carve the device into regions; throws a RangeError naming what does not fit. */
export function computeLayout(o: LayoutOptions): Layout {
  const totalBlocks = Math.floor(o.totalBytes / BLOCK_SIZE);
  if (o.totalBytes < MIN_DEVICE_BYTES) {
    throw new RangeError(`device is ${o.totalBytes} bytes; the minimum is ${MIN_DEVICE_BYTES} (64 MiB)`);
  }
  if (!Number.isInteger(o.logSlots) || o.logSlots < 1 || o.logSlots > LIMITS.maxNodes) {
    throw new RangeError(`log slots must be 1..${LIMITS.maxNodes}`);
  }
  if (!Number.isInteger(o.quorumCount) || o.quorumCount < 1 || o.quorumCount > QUORUM_SLOTS) {
    throw new RangeError(`quorum count must be 1..${QUORUM_SLOTS}`);
  }
  if (o.quorumCount > o.logSlots) throw new RangeError('quorum count cannot exceed the number of log slots');
  const logStart = QUORUM_START + QUORUM_SLOTS;
  const afterFixed = totalBlocks - logStart;
  const logBlocksPerSlot =
    o.logBlocksPerSlot ??
    Math.min(MAX_DEFAULT_LOG_BLOCKS, Math.max(MIN_LOG_BLOCKS, Math.floor(afterFixed / 8 / o.logSlots)));
  if (logBlocksPerSlot < SLOT_HEADER_BLOCKS + (2 * MAX_RECORD_BYTES) / BLOCK_SIZE) {
    throw new RangeError(`log of ${logBlocksPerSlot} blocks per slot is too small`);
  }
  const metaStart = logStart + o.logSlots * logBlocksPerSlot;
  const left = totalBlocks - metaStart;
  const metaBlocks = o.metaBlocks ?? Math.floor(left / 4);
  const dataBlocks = left - metaBlocks;
  if (metaBlocks < 1024 || dataBlocks < 1024) {
    throw new RangeError(
      `after ${o.logSlots} logs of ${logBlocksPerSlot} blocks, ${left} blocks are left for metadata and data; too few`,
    );
  }
  return {
    blockSize: BLOCK_SIZE,
    totalBlocks,
    quorumCount: o.quorumCount,
    quorumSlots: QUORUM_SLOTS,
    logSlots: o.logSlots,
    quorumStart: QUORUM_START,
    logStart,
    logBlocksPerSlot,
    metaStart,
    metaBlocks,
    dataStart: metaStart + metaBlocks,
    dataBlocks,
  };
}

/** First block of a node slot's log region. */
export function slotStart(sb: Layout, slot: number): number {
  return sb.logStart + slot * sb.logBlocksPerSlot;
}
