/*
 * Fixed-layout binary structs, described as data.
 *
 * Every fixed header the device holds (block header, superblock, log slot header, log record
 * header) is declared as a list of [name, type] pairs. The same list drives the encoder, the
 * decoder, the TypeScript type of the decoded value, and the format hash, so a change to a
 * definition cannot reach the device without changing the hash. Integers are big-endian; u64
 * values are JavaScript numbers and must stay below 2^53 (inode numbers, seqs and block numbers
 * all do); a stored value above that is reported as corruption rather than silently rounded.
 */

import { EIO } from '../errors.js';

export type FieldType = 'u8' | 'u16' | 'u32' | 'u64' | 'b8' | 'b16';
export type StructDef = readonly (readonly [name: string, type: FieldType])[];

type FieldValue<T extends FieldType> = T extends 'b8' | 'b16' ? Buffer : number;
export type StructOf<D extends StructDef> = { -readonly [F in D[number] as F[0]]: FieldValue<F[1]> };

export interface Struct<D extends StructDef> {
  readonly name: string;
  readonly def: D;
  readonly size: number;
  encode(value: StructOf<D>, buf: Buffer, offset: number): void;
  decode(buf: Buffer, offset: number): StructOf<D>;
}

const WIDTH: Record<FieldType, number> = { u8: 1, u16: 2, u32: 4, u64: 8, b8: 8, b16: 16 };
const TWO_32 = 2 ** 32;

export function defineStruct<const D extends StructDef>(name: string, def: D): Struct<D> {
  const offsets: number[] = [];
  let size = 0;
  for (const [, type] of def) {
    offsets.push(size);
    size += WIDTH[type];
  }
  return {
    name,
    def,
    size,
    encode(value, buf, offset) {
      const v = value as Record<string, number | Buffer>;
      def.forEach(([field, type], i) => {
        writeField(buf, offset + offsets[i]!, type, v[field], `${name}.${field}`);
      });
    },
    decode(buf, offset) {
      const out: Record<string, number | Buffer> = {};
      def.forEach(([field, type], i) => {
        out[field] = readField(buf, offset + offsets[i]!, type, `${name}.${field}`);
      });
      return out as StructOf<D>;
    },
  };
}

function writeField(buf: Buffer, at: number, type: FieldType, value: unknown, what: string): void {
  if (type === 'b8' || type === 'b16') {
    if (!Buffer.isBuffer(value) || value.length !== WIDTH[type]) throw new TypeError(`${what}: need ${type}`);
    value.copy(buf, at);
    return;
  }
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new TypeError(`${what}: ${String(value)} is not an unsigned integer`);
  }
  switch (type) {
    case 'u8':
      buf.writeUInt8(value, at);
      break;
    case 'u16':
      buf.writeUInt16BE(value, at);
      break;
    case 'u32':
      buf.writeUInt32BE(value, at);
      break;
    case 'u64':
      buf.writeUInt32BE(Math.floor(value / TWO_32), at);
      buf.writeUInt32BE(value >>> 0, at + 4);
      break;
  }
}

function readField(buf: Buffer, at: number, type: FieldType, what: string): number | Buffer {
  switch (type) {
    case 'u8':
      return buf.readUInt8(at);
    case 'u16':
      return buf.readUInt16BE(at);
    case 'u32':
      return buf.readUInt32BE(at);
    case 'u64': {
      const hi = buf.readUInt32BE(at);
      if (hi >= 2 ** 21) throw EIO(`${what}: stored value exceeds 2^53`);
      return hi * TWO_32 + buf.readUInt32BE(at + 4);
    }
    case 'b8':
    case 'b16':
      return Buffer.from(buf.subarray(at, at + WIDTH[type]));
  }
}
