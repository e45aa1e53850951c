/*
 * A bounded cache of decoded run units, least recently used out first.
 *
 * Runs are immutable, so a unit decoded once is good until its run is dropped; the cache is
 * keyed by the unit's block number and bounded by the bytes the decoded entries hold. This is
 * the one cache that grows with use, and its bound is configuration, not the number of files.
 */

import type { RunEntry } from '../format/run-unit.js';

export class UnitCache {
  private readonly units = new Map<number, { entries: RunEntry[]; bytes: number }>();
  private bytes = 0;

  constructor(readonly maxBytes: number) {}

  get(blkno: number): RunEntry[] | undefined {
    const u = this.units.get(blkno);
    if (!u) return undefined;
    this.units.delete(blkno);
    this.units.set(blkno, u);
    return u.entries;
  }

  set(blkno: number, entries: RunEntry[], bytes: number): void {
    this.drop(blkno);
    this.units.set(blkno, { entries, bytes });
    this.bytes += bytes;
    for (const [k, u] of this.units) {
      if (this.bytes <= this.maxBytes) break;
      this.units.delete(k);
      this.bytes -= u.bytes;
    }
  }

  drop(blkno: number): void {
    const u = this.units.get(blkno);
    if (u) {
      this.units.delete(blkno);
      this.bytes -= u.bytes;
    }
  }

  get usedBytes(): number {
    return this.bytes;
  }
}
