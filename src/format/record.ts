/*
 * Log records: one committed transaction each.
 *
 * A record is a header (magic, crc32c, fsid, lsn, seq, block, slot, count, payload length,
 * commit time) followed by the CBOR list of the transaction's events, padded to whole blocks.
 * Records start on block boundaries so that writing one never rewrites a block that holds an
 * earlier, acknowledged record: a torn write can only damage the record being written.
 *
 * The reader expects a particular record at each position: this filesystem (fsid), this slot,
 * the next log sequence number (lsn), this block, and a writer epoch no older than the previous
 * record's (each opening of a log for writing takes a new epoch, so a record left beyond a hole
 * by an earlier crash can never be read after the hole is filled by a later writer). A header that does not claim all four is
 * simply "not the next record" (the clean end of the log, or an old lap of the circular
 * region). A header that claims all four but fails its length or crc check is a torn record:
 * the transaction never became durable and nothing after it is trusted.
 */

import { crc32c } from './crc32c.js';
import { BLOCK_SIZE, MAGIC, MAX_RECORD_BYTES, type RecordHeader, recordHeader } from './layout.js';

export const RECORD_HEADER_BYTES = recordHeader.size;

export interface RecordPosition {
  fsid: Buffer;
  slot: number;
  lsn: number;
  /** Block offset inside the slot's log region. */
  block: number;
}

/** What a reader expects at a position: also, no record from an older writer than the last. */
export type RecordExpectation = RecordPosition & { minEpoch: number };

export type RecordMeta = RecordPosition & {
  seq: number;
  epoch: number;
  count: number;
  commitMs: number;
  flags?: number;
};

export function recordBytes(payloadBytes: number): number {
  return Math.ceil((RECORD_HEADER_BYTES + payloadBytes) / BLOCK_SIZE) * BLOCK_SIZE;
}

export function encodeRecord(meta: RecordMeta, payload: readonly Buffer[]): Buffer {
  const payloadBytes = payload.reduce((n, p) => n + p.length, 0);
  const buf = Buffer.alloc(recordBytes(payloadBytes));
  recordHeader.encode({ flags: 0, ...meta, magic: MAGIC.record, crc: 0, payloadBytes }, buf, 0);
  let at = RECORD_HEADER_BYTES;
  for (const p of payload) {
    p.copy(buf, at);
    at += p.length;
  }
  buf.writeUInt32BE(recordCrc(buf, payloadBytes), 4);
  return buf;
}

export type HeaderVerdict =
  | { kind: 'record'; header: RecordHeader; bytes: number }
  | { kind: 'end'; why: string }
  | { kind: 'torn'; why: string };

/** Judge the first block at a position: the expected record, the end of the log, or torn. */
export function judgeRecordHeader(first: Buffer, at: RecordExpectation): HeaderVerdict {
  // an old lap leaves arbitrary bytes here: look at the magic before trusting any field
  if (first.readUInt32BE(0) !== MAGIC.record) return { kind: 'end', why: 'no record header' };
  let h: RecordHeader;
  try {
    h = recordHeader.decode(first, 0);
  } catch {
    return { kind: 'end', why: 'not a record header' };
  }
  if (!h.fsid.equals(at.fsid)) return { kind: 'end', why: `record of filesystem ${h.fsid.toString('hex')}` };
  if (h.slot !== at.slot || h.block !== at.block) return { kind: 'end', why: 'record of another place' };
  if (h.lsn !== at.lsn) return { kind: 'end', why: `record of lsn ${h.lsn} where ${at.lsn} was next` };
  // a writer that reopened the log after a crash rewrote this lsn's predecessor; what follows
  // from an older writer was never durable in this order and must not come back
  if (h.epoch < at.minEpoch) return { kind: 'end', why: `stale record of writer epoch ${h.epoch}` };
  if (h.payloadBytes > MAX_RECORD_BYTES) return { kind: 'torn', why: `payload length ${h.payloadBytes}` };
  return { kind: 'record', header: h, bytes: recordBytes(h.payloadBytes) };
}

/** Check a whole record's crc; returns the payload, or null when the record is torn. */
export function recordPayload(buf: Buffer, h: RecordHeader): Buffer | null {
  if (buf.length < RECORD_HEADER_BYTES + h.payloadBytes) return null;
  if (recordCrc(buf, h.payloadBytes) !== h.crc) return null;
  return buf.subarray(RECORD_HEADER_BYTES, RECORD_HEADER_BYTES + h.payloadBytes);
}

function recordCrc(buf: Buffer, payloadBytes: number): number {
  return crc32c(buf, 8, RECORD_HEADER_BYTES + payloadBytes, crc32c(buf, 0, 4));
}
