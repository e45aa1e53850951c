/*
 * Merging sorted entry streams: newest wins.
 *
 * Sources are given newest first. For a key present in several sources the entry with the
 * highest seq is kept (on a tie, the earlier source), which is the item's current state; the
 * others are skipped. Tombstones pass through unless the caller drops them (only a merge that
 * reaches the oldest run may, since nothing older is left for them to hide).
 */

import type { RunEntry } from '../format/run-unit.js';

export async function* mergeNewest(
  sources: (Iterable<RunEntry> | AsyncIterable<RunEntry>)[],
  dropTombstones = false,
): AsyncGenerator<RunEntry> {
  const its = sources.map((s) => (Symbol.asyncIterator in s ? s[Symbol.asyncIterator]() : toAsync(s)));
  try {
    const heads = await Promise.all(its.map(async (it) => (await it.next()).value as RunEntry | undefined));
    for (;;) {
      let best = -1;
      for (let i = 0; i < heads.length; i++) {
        const h = heads[i];
        if (!h) continue;
        if (best < 0) best = i;
        else {
          const c = Buffer.compare(h.key, heads[best]!.key);
          if (c < 0 || (c === 0 && h.seq > heads[best]!.seq)) best = i;
        }
      }
      if (best < 0) return;
      const winner = heads[best]!;
      for (let i = 0; i < heads.length; i++) {
        while (heads[i]?.key.equals(winner.key))
          heads[i] = (await its[i]!.next()).value as RunEntry | undefined;
      }
      if (!dropTombstones || winner.value) yield winner;
    }
  } finally {
    // a consumer that stops early must still let every source finish (runs count their readers)
    await Promise.all(its.map((it) => it.return?.()));
  }
}

async function* toAsync<T>(it: Iterable<T>): AsyncGenerator<T> {
  yield* it;
}

/**
 * The same merge over sources already in memory, without a promise per entry: for scans that
 * want every entry of a range at once (readdir, extent lookups).
 */
export function mergeNewestArrays(sources: RunEntry[][], dropTombstones = false): RunEntry[] {
  const at = sources.map(() => 0);
  const out: RunEntry[] = [];
  for (;;) {
    let best = -1;
    for (let i = 0; i < sources.length; i++) {
      const h = sources[i]![at[i]!];
      if (!h) continue;
      if (best < 0) best = i;
      else {
        const b = sources[best]![at[best]!]!;
        const c = Buffer.compare(h.key, b.key);
        if (c < 0 || (c === 0 && h.seq > b.seq)) best = i;
      }
    }
    if (best < 0) return out;
    const winner = sources[best]![at[best]!]!;
    for (let i = 0; i < sources.length; i++) {
      while (sources[i]![at[i]!]?.key.equals(winner.key)) at[i]! += 1;
    }
    if (!dropTombstones || winner.value) out.push(winner);
  }
}
