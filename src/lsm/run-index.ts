/*
 * A run's index in memory: the first key and place of every data unit, packed.
 *
 * A reader keeps its run's index for as long as the run exists, and a volume of a million
 * inodes has runs of about a hundred thousand units, so the index is held as a few flat
 * arrays (every first key in one buffer, offsets into it, block numbers, unit sizes) rather
 * than an object and a Buffer per unit, which cost about five times the memory and as many
 * objects for the garbage collector to trace. The builder grows its arrays by doubling while a
 * run is written.
 *
 * On the device the index is a CBOR array of [first key, block, blocks] per unit (run.ts);
 * `encode` writes that array directly from the packed form, without building it in memory, in
 * the bytes cbor-x would give it.
 */

import { EIO } from '../errors.js';
import { cborArrayHead, putCborHead } from '../format/cbor.js';

export class RunIndex {
  /** Built by RunIndexBuilder.finish or decode. */
  constructor(
    /** Every unit's first key, back to back. */
    private readonly keys: Buffer,
    /** Unit u's first key is keys[offsets[u], offsets[u + 1]). */
    private readonly offsets: Uint32Array,
    private readonly blocks: Float64Array,
    private readonly sizes: Uint32Array,
    readonly length: number,
  ) {}

  /**
   * From the on-device bytes, parsed straight into the packed arrays: a run of a million
   * inodes has an index of about a hundred thousand units, and decoding it as CBOR values
   * first would make as many arrays and key copies only to drop them. EIO naming `what` when
   * it is not the array encode() writes.
   */
  static decode(bytes: Buffer, what: string): RunIndex {
    const bad = (why: string): never => {
      throw EIO(`${what} is malformed (${why})`);
    };
    let at = 0;
    const head = (major: number): number => {
      if (at >= bytes.length) bad('truncated');
      const b = bytes[at++]!;
      if (major === 0x00 && b === 0xfb) {
        if (at + 8 > bytes.length) bad('truncated');
        const v = bytes.readDoubleBE(at);
        at += 8;
        if (!Number.isSafeInteger(v) || v < 0) bad('a block number that is not an integer');
        return v;
      }
      if ((b & 0xe0) !== major) bad(`major type ${b >> 5} where ${major >> 5} belongs`);
      const n = b & 0x1f;
      if (n < 24) return n;
      const len = n === 24 ? 1 : n === 25 ? 2 : n === 26 ? 4 : n === 27 ? 8 : bad('an indefinite length');
      if (at + len > bytes.length) bad('truncated');
      const v = len === 8 ? Number(bytes.readBigUInt64BE(at)) : bytes.readUIntBE(at, len);
      at += len;
      if (!Number.isSafeInteger(v)) bad('a number past 2^53');
      return v;
    };
    const count = head(0x80);
    const b = new RunIndexBuilder();
    for (let u = 0; u < count; u++) {
      if (head(0x80) !== 3) bad('a unit entry that is not [first key, block, blocks]');
      const keyLen = head(0x40);
      if (at + keyLen > bytes.length) bad('truncated');
      const first = bytes.subarray(at, at + keyLen);
      at += keyLen;
      const block = head(0x00);
      const blocks = head(0x00);
      if (blocks < 1) bad('a unit of no blocks');
      b.push(first, block, blocks);
    }
    return b.finish();
  }

  /** Block of unit u. */
  block(u: number): number {
    return this.blocks[u]!;
  }

  /** Blocks unit u spans. */
  size(u: number): number {
    return this.sizes[u]!;
  }

  /** Unit u's first key compared with `key` (negative: the first key sorts before it). */
  compareFirst(u: number, key: Buffer): number {
    return this.keys.compare(key, 0, key.length, this.offsets[u]!, this.offsets[u + 1]!);
  }

  /** The last unit whose first key is <= key (-1 when key sorts before the run). */
  unitFor(key: Buffer): number {
    let lo = 0;
    let hi = this.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.compareFirst(mid, key) <= 0) lo = mid + 1;
      else hi = mid;
    }
    return lo - 1;
  }

  /** The on-device form: a CBOR array of [first key, block, blocks]. */
  encode(): Buffer {
    const head = cborArrayHead(this.length);
    // per unit: the 3-array head, a byte-string head (at most 9 bytes), two uints (at most 9 each)
    const out = Buffer.allocUnsafe(head.length + this.offsets[this.length]! + this.length * 28);
    let at = head.copy(out, 0);
    for (let u = 0; u < this.length; u++) {
      out[at++] = 0x83;
      const start = this.offsets[u]!;
      const end = this.offsets[u + 1]!;
      at = putCborHead(out, at, 0x40, end - start);
      at += this.keys.copy(out, at, start, end);
      at = putCborHead(out, at, 0x00, this.blocks[u]!);
      at = putCborHead(out, at, 0x00, this.sizes[u]!);
    }
    return out.subarray(0, at);
  }
}

export class RunIndexBuilder {
  private keys = Buffer.allocUnsafe(4096);
  private offsets = new Uint32Array(129);
  private blocks = new Float64Array(128);
  private sizes = new Uint32Array(128);
  private n = 0;

  get length(): number {
    return this.n;
  }

  push(first: Uint8Array, block: number, blocks: number): void {
    if (this.n === this.blocks.length) {
      this.offsets = grown(this.offsets, this.offsets.length * 2 - 1);
      this.blocks = grown(this.blocks, this.blocks.length * 2);
      this.sizes = grown(this.sizes, this.sizes.length * 2);
    }
    const at = this.offsets[this.n]!;
    if (at + first.length > this.keys.length) {
      const bigger = Buffer.allocUnsafe(Math.max(this.keys.length * 2, at + first.length));
      this.keys.copy(bigger, 0, 0, at);
      this.keys = bigger;
    }
    this.keys.set(first, at);
    this.blocks[this.n] = block;
    this.sizes[this.n] = blocks;
    this.n += 1;
    this.offsets[this.n] = at + first.length;
  }

  /** The index, in arrays cut to size (the builder is done with). */
  finish(): RunIndex {
    const n = this.n;
    const keyBytes = this.offsets[n]!;
    const keys = Buffer.allocUnsafeSlow(keyBytes);
    this.keys.copy(keys, 0, 0, keyBytes);
    return new RunIndex(
      keys,
      this.offsets.slice(0, n + 1),
      this.blocks.slice(0, n),
      this.sizes.slice(0, n),
      n,
    );
  }
}

function grown<T extends Uint32Array | Float64Array>(a: T, length: number): T {
  const b = new (a.constructor as new (n: number) => T)(length);
  b.set(a);
  return b;
}
