/*
 * A sorted set of strings that stays cheap to insert into and to scan from any point.
 *
 * Keys live in chunks of at most CHUNK sorted strings; the chunks are in order. Finding a key
 * is a binary search over the chunks' last keys then within one chunk; an insert splices into
 * one small chunk and splits it when it grows too big. That keeps inserts at O(log n + CHUNK)
 * however large the set grows, where one sorted array would move O(n) entries per insert and
 * re-sorting on every scan would cost O(n log n).
 */

import { lowerBound } from './bisect.js';

const CHUNK = 512;
const byString = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const lastBelow = (chunk: string[], k: string) => byString(chunk[chunk.length - 1]!, k);

export class SortedKeys {
  private chunks: string[][] = [];
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Insert `k` if absent; returns whether it was added. */
  add(k: string): boolean {
    if (this.chunks.length === 0) {
      this.chunks.push([k]);
      this.count = 1;
      return true;
    }
    let ci = this.chunkFor(k);
    if (ci === this.chunks.length) ci -= 1;
    const chunk = this.chunks[ci]!;
    const i = lowerBound(chunk, k, byString);
    if (chunk[i] === k) return false;
    chunk.splice(i, 0, k);
    this.count += 1;
    if (chunk.length > CHUNK) this.chunks.splice(ci, 1, chunk.slice(0, CHUNK / 2), chunk.slice(CHUNK / 2));
    return true;
  }

  /** Keys >= first, in order. */
  *from(first: string): Generator<string> {
    let ci = this.chunkFor(first);
    if (ci >= this.chunks.length) return;
    let i = lowerBound(this.chunks[ci]!, first, byString);
    for (; ci < this.chunks.length; ci++, i = 0) {
      const chunk = this.chunks[ci]!;
      for (; i < chunk.length; i++) yield chunk[i]!;
    }
  }

  /** Index of the first chunk whose last key is >= k (chunks.length if none). */
  private chunkFor(k: string): number {
    return lowerBound(this.chunks, k, lastBelow);
  }
}
