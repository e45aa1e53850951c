/*
 * Test helper: commit transactions to one node slot of a volume, as that node would.
 *
 * Each transaction becomes one committed log record, with the next seq after the highest seq
 * found in any slot, so transactions appended to several slots one after another form one
 * global order. Used in process (appendTransactions), or as a script so a test can write to
 * the log from another process while a CLI reader follows it:
 *
 *   node --import tsx test/helpers/append-events.ts DEVICE SLOT JSON
 *
 * JSON is what transactionsToJson makes: a list of transactions, each a list of events, with
 * byte fields as hex strings. The script prints the seqs it committed, one per line.
 */

import { pathToFileURL } from 'node:url';
import type { FsEvent } from '../../src/events/event.js';
import { LogCursor } from '../../src/events/log-cursor.js';
import { LogWriter } from '../../src/events/log-writer.js';
import { LocalSeqAuthority } from '../../src/events/seq-authority.js';
import { EVENT_SCHEMA, type EventType } from '../../src/format/event-schema.js';
import { openVolume } from '../../src/volume/volume.js';

export const APPEND_EVENTS_SCRIPT = import.meta.filename;

/** Commit each transaction to `slot` of the filesystem on `device`; returns their seqs. */
export async function appendTransactions(
  device: string,
  slot: number,
  txns: readonly (readonly FsEvent[])[],
): Promise<number[]> {
  const vol = await openVolume(device);
  try {
    let lastSeq = 0;
    for (let s = 0; s < vol.sb.logSlots; s++) {
      const cursor = await LogCursor.atTail(vol, s);
      await cursor.readAll();
      lastSeq = Math.max(lastSeq, cursor.position.seq);
    }
    const log = await LogWriter.open(vol, slot, new LocalSeqAuthority(lastSeq));
    const seqs: number[] = [];
    for (const events of txns) {
      await log.append(events);
      seqs.push(await log.commit());
    }
    await log.close();
    return seqs;
  } finally {
    await vol.dev.close();
  }
}

/** Transactions as JSON for the script: byte fields as hex. */
export function transactionsToJson(txns: readonly (readonly FsEvent[])[]): string {
  return JSON.stringify(txns, (_key, v: unknown) =>
    v instanceof Uint8Array || isSerializedBuffer(v) ? Buffer.from(bytesOf(v)).toString('hex') : v,
  );
}

/** The inverse of transactionsToJson. */
export function transactionsFromJson(json: string): FsEvent[][] {
  const txns = JSON.parse(json) as Record<string, unknown>[][];
  return txns.map((events) =>
    events.map((e) => {
      const def = EVENT_SCHEMA[e.type as EventType];
      if (!def) throw new Error(`unknown event type ${String(e.type)}`);
      const out: Record<string, unknown> = { type: e.type };
      for (const [name, type] of def.fields) {
        out[name] = type === 'bytes' ? Buffer.from(String(e[name]), 'hex') : e[name];
      }
      return out as unknown as FsEvent;
    }),
  );
}

// JSON.stringify calls Buffer's toJSON before the replacer sees it.
function isSerializedBuffer(v: unknown): v is { type: 'Buffer'; data: number[] } {
  return typeof v === 'object' && v !== null && (v as { type?: unknown }).type === 'Buffer' && 'data' in v;
}

function bytesOf(v: Uint8Array | { data: number[] }): Uint8Array {
  return v instanceof Uint8Array ? v : Uint8Array.from(v.data);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [device, slot, json] = process.argv.slice(2);
  if (!device || !slot || !json) {
    process.stderr.write('usage: append-events.ts DEVICE SLOT JSON\n');
    process.exit(2);
  }
  const seqs = await appendTransactions(device, Number(slot), transactionsFromJson(json));
  process.stdout.write(seqs.map((s) => `${s}\n`).join(''));
}
