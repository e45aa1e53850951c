/*
 * The child process of the log crash test (test/events/crash.test.ts).
 *
 *   node --import tsx test/helpers/crash-child.ts, then "EVENT_BASE CONCURRENCY DEVICE\n" on stdin
 *
 * The parent starts it ahead of time, so loading its modules overlaps the previous round, and
 * sends the line when the device is free. It then opens the file-backed filesystem DEVICE (with
 * any faults armed in SCOUTFS_TRIGGERS; a fault that kills the device kills the process on the
 * spot with SIGKILL, as a power cut would), finds the highest seq committed in any log, opens
 * slot 0's log for writing and commits operations as fast as it can until it is killed. An operation is one append of a few sample events
 * followed by a commit; CONCURRENCY operations are in flight at once, so group commit puts
 * several of them in one transaction.
 *
 * It tells the parent everything on stdout, one line per fact, each written before the next
 * step so a kill at any instant leaves the parent knowing every operation that could be in the
 * log and every one that was acknowledged:
 *
 *   ready LAST_SEQ               the log is open for writing; LAST_SEQ was found committed
 *   planned OP COUNT FINGERPRINT operation OP (COUNT events) is about to be appended
 *   appended OP SEQ              it is in the open transaction SEQ
 *   acked OP SEQ DURABLE_SEQ     commit() resolved (with DURABLE_SEQ): it must survive
 *   failed OP MESSAGE            append or commit threw; no more operations are started
 *
 * Pipe writes of a line are single write(2) calls under PIPE_BUF, so a line is never torn.
 */

import { createHash } from 'node:crypto';
import type { FsEvent } from '../../src/events/event.js';
import { LogCursor } from '../../src/events/log-cursor.js';
import { LogWriter } from '../../src/events/log-writer.js';
import { LocalSeqAuthority } from '../../src/events/seq-authority.js';
import { openVolume, type Volume } from '../../src/volume/volume.js';
import { firstLine } from './child-stdin.js';
import { sampleEvent } from './volume.js';

/** A digest of a list of events, independent of key order and of how Buffers decode. */
export function fingerprint(events: readonly FsEvent[]): string {
  return createHash('sha256')
    .update(JSON.stringify(events.map(canonical)))
    .digest('hex');
}

/** The highest seq committed in any slot's log. */
export async function lastCommittedSeq(vol: Volume): Promise<number> {
  let last = 0;
  for (let slot = 0; slot < vol.sb.logSlots; slot++) {
    const cursor = await LogCursor.atTail(vol, slot);
    while (await cursor.next());
    last = Math.max(last, cursor.position.seq);
  }
  return last;
}

// the test imports fingerprint() and lastCommittedSeq() from here; only a run as a process commits
if (process.argv[1] === import.meta.filename) await main();

async function main(): Promise<void> {
  const [baseArg, concurrencyArg, ...rest] = (await firstLine()).split(' ');
  const path = rest.join(' ');
  if (!path || !concurrencyArg) throw new Error('expected "EVENT_BASE CONCURRENCY DEVICE" on stdin');
  const vol = await openVolume(path, { onDeath: () => process.kill(process.pid, 'SIGKILL') });
  const lastSeq = await lastCommittedSeq(vol);
  const log = await LogWriter.open(vol, 0, new LocalSeqAuthority(lastSeq));
  say(`ready ${lastSeq}`);

  let nextOp = 0;
  let nextEvent = Number(baseArg);
  let stopped = false;
  const worker = async () => {
    while (!stopped) {
      const op = nextOp++;
      const events = Array.from({ length: opEventCount(op) }, () => sampleEvent(nextEvent++));
      say(`planned ${op} ${events.length} ${fingerprint(events)}`);
      try {
        const seq = await log.append(events);
        say(`appended ${op} ${seq}`);
        const durable = await log.commit();
        say(`acked ${op} ${seq} ${durable}`);
      } catch (err) {
        stopped = true;
        say(`failed ${op} ${(err as Error).message.replaceAll('\n', ' ')}`);
      }
    }
  };
  await Promise.all(Array.from({ length: Number(concurrencyArg) }, worker));
  // only a full log or a dead device stops the workers; stdin keeps the process alive until
  // the parent's SIGKILL
}

/** Events per operation: 1 to 4, varying with the operation number. */
function opEventCount(op: number): number {
  return 1 + ((op * 7) % 4);
}

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

function canonical(v: unknown): unknown {
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex');
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return Object.fromEntries(
      Object.keys(o)
        .sort()
        .map((k) => [k, canonical(o[k])]),
    );
  }
  return v;
}
