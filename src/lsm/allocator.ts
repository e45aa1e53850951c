/*
 * The meta region's space: free extents, first fit.
 *
 * Nothing about free space is stored: what is in use is exactly what the current manifest
 * references (its runs and itself), so the free list is derived from the manifest at open. A
 * run or manifest made obsolete by a new manifest is released only after that manifest is
 * durable, so a crash always finds the old manifest's blocks untouched.
 */

import { ENOSPC } from '../errors.js';

export interface Extent {
  start: number;
  blocks: number;
}

export class Allocator {
  private free: Extent[];

  /** The region [start, start+blocks) minus the extents in use. */
  constructor(start: number, blocks: number, used: Extent[]) {
    this.free = [];
    let at = start;
    for (const u of [...used].sort((a, b) => a.start - b.start)) {
      if (u.start > at) this.free.push({ start: at, blocks: u.start - at });
      at = Math.max(at, u.start + u.blocks);
    }
    if (start + blocks > at) this.free.push({ start: at, blocks: start + blocks - at });
  }

  get freeBlocks(): number {
    return this.free.reduce((n, e) => n + e.blocks, 0);
  }

  alloc(blocks: number, what: string): Extent {
    const i = this.free.findIndex((e) => e.blocks >= blocks);
    if (i < 0) throw ENOSPC(`metadata region full: no ${blocks} contiguous free blocks for ${what}`);
    const e = this.free[i]!;
    const out = { start: e.start, blocks };
    if (e.blocks === blocks) this.free.splice(i, 1);
    else this.free[i] = { start: e.start + blocks, blocks: e.blocks - blocks };
    return out;
  }

  release(x: Extent): void {
    this.free.push({ ...x });
    this.free.sort((a, b) => a.start - b.start);
    const merged: Extent[] = [];
    for (const e of this.free) {
      const last = merged.at(-1);
      if (last && last.start + last.blocks === e.start) last.blocks += e.blocks;
      else merged.push({ ...e });
    }
    this.free = merged;
  }
}
