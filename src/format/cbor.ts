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
  if (n < 24) return Buffer.from([0x80 + n]);
  if (n < 0x100) return Buffer.from([0x98, n]);
  if (n < 0x10000) return Buffer.from([0x99, n >> 8, n & 0xff]);
  const b = Buffer.alloc(5);
  b[0] = 0x9a;
  b.writeUInt32BE(n, 1);
  return b;
}

/**
 * A CBOR array of numbers and byte strings in exactly the bytes cbor-x writes for it with the
 * options above (tested against it): what every index item value is. Written directly, it
 * costs a fraction of the general encoder's time, and items are encoded on every fold.
 */
export function cborEncodeFields(values: readonly (number | Uint8Array)[]): Buffer {
  const n = values.length;
  if (n >= 24) return cborEncode(values);
  let size = 1;
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    size += typeof v === 'number' ? numberBytes(v) : headBytes(v.length) + v.length;
  }
  const out = Buffer.allocUnsafe(size);
  out[0] = 0x80 | n;
  let at = 1;
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    if (typeof v !== 'number') {
      at = putCborHead(out, at, 0x40, v.length);
      out.set(v, at);
      at += v.length;
    } else if (v >>> 0 === v) {
      at = putCborHead(out, at, 0x00, v);
    } else if (Number.isInteger(v) && v < 0 && v >= -0x100000000) {
      at = putCborHead(out, at, 0x20, -1 - v);
    } else {
      out[at] = 0xfb;
      out.writeDoubleBE(v, at + 1);
      at += 9;
    }
  }
  return out;
}

/** Bytes of a head with argument n (below 2^32). */
const headBytes = (n: number) => (n < 24 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : 5);

/** Bytes cbor-x writes for a number (see cborEncodeFields). */
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
