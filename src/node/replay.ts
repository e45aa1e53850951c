/*
 * Rebuilding the index from the logs.
 *
 * Reads every node's log from its tail, merges them in seq order and folds each transaction
 * into a fresh in-memory index, optionally stopping after a given seq. This is what a replay
 * tool shows and what `replay --verify` will compare with the on-device index.
 */

import type { Transaction } from '../events/event.js';
import { LogCursor } from '../events/log-cursor.js';
import { mergeLogs } from '../events/merge-logs.js';
import { MemoryIndex } from '../lsm/memory-index.js';
import { applyTransaction } from '../projections/projector.js';
import type { Volume } from '../volume/volume.js';

export interface ReplayResult {
  index: MemoryIndex;
  /** Seq of the last transaction folded (0 if none). */
  lastSeq: number;
  transactions: number;
  events: number;
}

export async function replayVolume(
  vol: Volume,
  o: { untilSeq?: number; onTransaction?: (t: Transaction) => void } = {},
): Promise<ReplayResult> {
  const cursors = await Promise.all([...Array(vol.sb.logSlots).keys()].map((s) => LogCursor.atTail(vol, s)));
  const index = new MemoryIndex();
  const r: ReplayResult = { index, lastSeq: 0, transactions: 0, events: 0 };
  for await (const t of mergeLogs(cursors)) {
    if (o.untilSeq !== undefined && t.seq > o.untilSeq) break;
    await applyTransaction(index, t);
    o.onTransaction?.(t);
    r.lastSeq = t.seq;
    r.transactions += 1;
    r.events += t.events.length;
  }
  return r;
}
