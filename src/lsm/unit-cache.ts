/*
 * A bounded cache of decoded run units, least recently used out first.
 *
 * Runs are immutable, so a unit decoded once is good for as long as its run exists. The cache
 * is keyed by run id and block: run ids are never reused, so after a run is dropped and its
 * blocks hold another run, a stale entry can never be mistaken for the new run's unit. The
 * cache is bounded by the bytes the decoded entries hold. This is
 * the one cache that grows with use, and its bound is configuration, not the number of files.
 */

import type { RunEntry } from '../format/run-unit.js';

export class UnitCache {
  private readonly units = new Map<string, { entries: RunEntry[]; bytes: number }>();
  private bytes = 0;

  constructor(readonly maxBytes: number) {}

  get(run: number, blkno: number): RunEntry[] | undefined {
    const k = `${run}:${blkno}`;
    const u = this.units.get(k);
    if (!u) return undefined;
    this.units.delete(k);
    this.units.set(k, u);
    return u.entries;
  }

  set(run: number, blkno: number, entries: RunEntry[], bytes: number): void {
    this.drop(run, blkno);
    this.units.set(`${run}:${blkno}`, { entries, bytes });
    this.bytes += bytes;
    for (const [k, u] of this.units) {
      if (this.bytes <= this.maxBytes) break;
      this.units.delete(k);
      this.bytes -= u.bytes;
    }
  }

  drop(run: number, blkno: number): void {
    const k = `${run}:${blkno}`;
    const u = this.units.get(k);
    if (u) {
      this.units.delete(k);
      this.bytes -= u.bytes;
    }
  }
}
