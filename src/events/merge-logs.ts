/*
 * Every node's log as one stream in the cluster's order of change.
 *
 * Each log is already in seq order, and seqs are unique across logs (one authority hands them
 * out), so a k-way merge that always takes the cursor whose next transaction has the lowest
 * seq yields the global order while holding only one transaction per log in memory.
 */

import type { Transaction } from './event.js';
import type { LogCursor } from './log-cursor.js';

export async function* mergeLogs(cursors: LogCursor[]): AsyncGenerator<Transaction> {
  const heads = await Promise.all(cursors.map((c) => c.next()));
  for (;;) {
    let best = -1;
    heads.forEach((h, i) => {
      if (h && (best < 0 || h.seq < heads[best]!.seq)) best = i;
    });
    if (best < 0) return;
    yield heads[best]!;
    heads[best] = await cursors[best]!.next();
  }
}
