/*
 * The bytes of a run's data units: sorted entries (key, seq, value or tombstone).
 *
 *   count u32, then per entry:  keyLen u16 | key | seq u64 | valueLen u32 | value
 *
 * valueLen 0xFFFFFFFF marks a tombstone (no value bytes follow). Entries are in key order and a
 * key appears once per run. Decoding checks every length against the payload, so a unit that
 * passed its crc but was written by buggy code is EIO, not an out-of-bounds read.
 */

import { EIO } from '../errors.js';

export const RUN_ENTRY_LAYOUT = [
  'keyLen u16',
  'key',
  'seq u64',
  'valueLen u32 (0xffffffff: tombstone)',
  'value',
];
const TOMBSTONE = 0xffffffff;
const TWO_32 = 2 ** 32;

export interface RunEntry {
  key: Buffer;
  seq: number;
  value: Buffer | null;
}

export const entryBytes = (key: Buffer, value: Buffer | null) =>
  2 + key.length + 8 + 4 + (value?.length ?? 0);

export function encodeEntries(entries: readonly RunEntry[]): Buffer {
  const size = 4 + entries.reduce((n, e) => n + entryBytes(e.key, e.value), 0);
  const buf = Buffer.allocUnsafe(size);
  buf.writeUInt32BE(entries.length, 0);
  let at = 4;
  for (const e of entries) {
    buf.writeUInt16BE(e.key.length, at);
    e.key.copy(buf, at + 2);
    at += 2 + e.key.length;
    buf.writeUInt32BE(Math.floor(e.seq / TWO_32), at);
    buf.writeUInt32BE(e.seq >>> 0, at + 4);
    buf.writeUInt32BE(e.value ? e.value.length : TOMBSTONE, at + 8);
    at += 12;
    if (e.value) {
      e.value.copy(buf, at);
      at += e.value.length;
    }
  }
  return buf;
}

/**
 * The entries of a data unit. Keys and values are views of `payload`, not copies: a unit is
 * read into a buffer of its own and cached whole, so its entries keep exactly that buffer alive
 * (copies would each take a slice of a shared 8 KiB pool slab and keep the slab alive instead).
 * Nothing writes into a payload after it is read.
 */
export function decodeEntries(payload: Buffer, what: string): RunEntry[] {
  const need = (at: number, n: number) => {
    if (at + n > payload.length) throw EIO(`${what}: entry runs past the unit`);
  };
  need(0, 4);
  const count = payload.readUInt32BE(0);
  const out: RunEntry[] = new Array(count);
  let at = 4;
  for (let i = 0; i < count; i++) {
    need(at, 2);
    const keyLen = payload.readUInt16BE(at);
    need(at + 2, keyLen + 12);
    const key = payload.subarray(at + 2, at + 2 + keyLen);
    at += 2 + keyLen;
    const seq = payload.readUInt32BE(at) * TWO_32 + payload.readUInt32BE(at + 4);
    const len = payload.readUInt32BE(at + 8);
    at += 12;
    let value: Buffer | null = null;
    if (len !== TOMBSTONE) {
      need(at, len);
      value = payload.subarray(at, at + len);
      at += len;
    }
    if (i > 0 && Buffer.compare(out[i - 1]!.key, key) >= 0) throw EIO(`${what}: entries out of order`);
    out[i] = { key, seq, value };
  }
  return out;
}
