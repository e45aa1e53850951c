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
