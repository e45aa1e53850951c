/*
 * The format hash: a fingerprint of every definition that decides how bytes on the device and
 * on the wire are read.
 *
 * It is computed, not typed: the canonical JSON of the definitions themselves (block size,
 * magics, every struct's fields, the key zones and types, the event schema, the cbor options,
 * the limits) is hashed with SHA-256 and the first 8 bytes kept. Change any definition and the
 * hash changes, so a mount or a node built from different definitions is refused with both
 * hashes named instead of misreading the device.
 */

import { createHash } from 'node:crypto';
import { CBOR_OPTIONS } from './cbor.js';
import { EVENT_SCHEMA } from './event-schema.js';
import { ITEM_SCHEMA } from './item-schema.js';
import { FS_TYPE, KEY_FIXED_BYTES, ZONE } from './key.js';
import {
  BLOCK_SIZE,
  blockHeader,
  FORMAT_VERSION,
  INDEX_ROOT_BLOCKS,
  indexRoot,
  LIMITS,
  MAGIC,
  MAX_RECORD_BYTES,
  QUORUM_SLOTS,
  QUORUM_START,
  RECORD_FLAG_WRAP,
  recordHeader,
  SLOT_HEADER_BLOCKS,
  SUPERBLOCK_BLOCKS,
  slotHeader,
  superblock,
  unitHeader,
} from './layout.js';
import { RUN_ENTRY_LAYOUT } from './run-unit.js';

export const FORMAT_DEFINITION = {
  version: FORMAT_VERSION,
  blockSize: BLOCK_SIZE,
  magic: MAGIC,
  superblockBlocks: SUPERBLOCK_BLOCKS,
  quorum: { start: QUORUM_START, slots: QUORUM_SLOTS },
  slotHeaderBlocks: SLOT_HEADER_BLOCKS,
  maxRecordBytes: MAX_RECORD_BYTES,
  recordFlags: { wrap: RECORD_FLAG_WRAP },
  indexRootBlocks: INDEX_ROOT_BLOCKS,
  runEntry: RUN_ENTRY_LAYOUT,
  structs: [blockHeader, unitHeader, superblock, slotHeader, recordHeader, indexRoot].map((s) => ({
    name: s.name,
    fields: s.def,
  })),
  key: { fixedBytes: KEY_FIXED_BYTES, zones: ZONE, fsTypes: FS_TYPE },
  events: EVENT_SCHEMA,
  items: ITEM_SCHEMA,
  cbor: CBOR_OPTIONS,
  limits: LIMITS,
};

/** The hash of a definition object: SHA-256 of its canonical JSON, first 8 bytes. */
export function formatHashOf(definition: unknown): Buffer {
  return createHash('sha256').update(canonicalJson(definition)).digest().subarray(0, 8);
}

export const FORMAT_HASH: Buffer = formatHashOf(FORMAT_DEFINITION);
export const FORMAT_HASH_HEX: string = FORMAT_HASH.toString('hex');

/** JSON with object keys sorted, so the hash does not depend on declaration order of objects. */
function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>).sort(([a], [b]) =>
      a < b ? -1 : a > b ? 1 : 0,
    );
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonicalJson(x)}`).join(',')}}`;
  }
  return JSON.stringify(v);
}
