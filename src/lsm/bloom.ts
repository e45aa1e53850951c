/*
 * Bloom filters for runs: a point lookup skips a run whose filter says the key is absent.
 *
 * About 10 bits per key and 7 probes, for roughly a 1% false-positive rate. The probes are
 * derived from two crc32c values of the key (double hashing), so the filter costs no extra
 * hash implementation and is the same on every node.
 */

import { crc32c } from '../format/crc32c.js';

const BITS_PER_KEY = 10;
const PROBES = 7;

export class Bloom {
  constructor(readonly bits: Buffer) {}

  /** An empty filter sized for `count` keys. */
  static sized(count: number): Bloom {
    return new Bloom(Buffer.alloc(Math.ceil(Math.max(64, count * BITS_PER_KEY) / 8)));
  }

  add(key: Buffer): void {
    for (const bit of this.probes(key)) this.bits[bit >>> 3]! |= 1 << (bit & 7);
  }

  mayContain(key: Buffer): boolean {
    for (const bit of this.probes(key)) if (!(this.bits[bit >>> 3]! & (1 << (bit & 7)))) return false;
    return true;
  }

  private *probes(key: Buffer): Generator<number> {
    const n = this.bits.length * 8;
    const h1 = crc32c(key);
    const h2 = crc32c(key, 0, key.length, 0x9e3779b9) | 1;
    for (let i = 0; i < PROBES; i++) yield ((h1 + i * h2) >>> 0) % n;
  }
}
