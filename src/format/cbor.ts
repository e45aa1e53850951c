/*
 * The one cbor-x configuration. No other module imports cbor-x.
 *
 * Records are off: the byte layout of a CBOR item must not depend on what an encoder saw
 * before, or the same event could encode two ways and replayed items would not be
 * byte-identical. Byte strings are copied on decode so decoded events never alias a block
 * buffer that is about to be reused.
 */

import { Decoder, Encoder, type Options } from 'cbor-x';

export const CBOR_OPTIONS = {
  useRecords: false,
  structuredClone: false,
  bundleStrings: false,
  mapsAsObjects: true,
  variableMapSize: true,
  copyBuffers: true,
  tagUint8Array: false,
  useFloat32: 0,
} as const satisfies Options;

const encoder = new Encoder(CBOR_OPTIONS);
const decoder = new Decoder(CBOR_OPTIONS);

export const cborEncode = (value: unknown): Buffer => encoder.encode(value);
export const cborDecode = (bytes: Uint8Array): unknown => decoder.decode(bytes);

/** The CBOR head of a definite-length array of n items, so encoded items can be concatenated. */
export function cborArrayHead(n: number): Buffer {
  const b = Buffer.alloc(9);
  return b.subarray(0, putCborHead(b, 0, 0x80, n));
}

/** What the direct encoder writes: numbers, byte strings, and arrays of those. */
export type CborFields = readonly (number | Uint8Array | CborFields)[];

/**
 * A CBOR array of numbers, byte strings and such arrays, in exactly the bytes cbor-x writes
 * for it with the options above (tested against it): what every index item value and every
 * event is. Written directly, it costs a fraction of the general encoder's time, and items
 * are encoded on every fold, events on every operation.
 */
export function cborEncodeFields(values: CborFields): Buffer {
  const out = Buffer.allocUnsafe(cborSize(values));
  putCbor(out, 0, values);
  return out;
}

/** Several arrays, their encodings concatenated (no list head), in one buffer. */
export function cborEncodeRun(lists: readonly CborFields[]): Buffer {
  let size = 0;
  for (const l of lists) size += cborSize(l);
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  for (const l of lists) at = putCbor(out, at, l);
  return out;
}

function cborSize(v: number | Uint8Array | CborFields): number {
  if (typeof v === 'number') return numberBytes(v);
  if (v instanceof Uint8Array) return headBytes(v.length) + v.length;
  if (!Array.isArray(v)) throw new TypeError(`cannot encode ${typeof v} as an item or event field`);
  let size = headBytes(v.length);
  for (let i = 0; i < v.length; i++) size += cborSize(v[i]!);
  return size;
}

function putCbor(out: Buffer, at: number, v: number | Uint8Array | CborFields): number {
  if (typeof v === 'number') {
    if (v >>> 0 === v) return putCborHead(out, at, 0x00, v);
    if (Number.isInteger(v) && v < 0 && v >= -0x100000000) return putCborHead(out, at, 0x20, -1 - v);
    out[at] = 0xfb;
    out.writeDoubleBE(v, at + 1);
    return at + 9;
  }
  if (v instanceof Uint8Array) {
    at = putCborHead(out, at, 0x40, v.length);
    out.set(v, at);
    return at + v.length;
  }
  at = putCborHead(out, at, 0x80, v.length);
  for (let i = 0; i < v.length; i++) at = putCbor(out, at, v[i]!);
  return at;
}

/** Bytes of a head with argument n (below 2^32). */
const headBytes = (n: number) => (n < 24 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : 5);

/** Bytes cbor-x writes for a number (see putCbor). */
function numberBytes(v: number): number {
  if (v >>> 0 === v) return headBytes(v);
  if (Number.isInteger(v) && v < 0 && v >= -0x100000000) return headBytes(-1 - v);
  return 9;
}

/**
 * A CBOR head: major type `major` (already shifted) and argument `n`, smallest form, as cbor-x
 * writes it; from 2^32 on cbor-x writes integers as a float64 (exact up to 2^53), and so does this.
 */
export function putCborHead(out: Buffer, at: number, major: number, n: number): number {
  if (n < 24) {
    out[at] = major | n;
    return at + 1;
  }
  if (n < 0x100) {
    out[at] = major | 24;
    out[at + 1] = n;
    return at + 2;
  }
  if (n < 0x10000) {
    out[at] = major | 25;
    out.writeUInt16BE(n, at + 1);
    return at + 3;
  }
  if (n < 0x100000000) {
    out[at] = major | 26;
    out.writeUInt32BE(n, at + 1);
    return at + 5;
  }
  out[at] = 0xfb;
  out.writeDoubleBE(n, at + 1);
  return at + 9;
}
