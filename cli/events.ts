/*
 * scoutfs events: list the committed transactions of the node logs, and follow new ones.
 *
 * Transactions of all slots are merged in seq order (the cluster's one order of change). Each
 * event prints as one line, or as one JSON object per line with --json (byte fields as strings
 * when they are UTF-8, as <field>_base64 otherwise; times as "sec.nsec").
 */

import { Command } from 'commander';
import { merge } from 'rxjs';
import { UsageError } from '../src/errors.js';
import { type FsEvent, inodesOf, type Transaction } from '../src/events/event.js';
import { follow$ } from '../src/events/follow.js';
import { LogCursor } from '../src/events/log-cursor.js';
import { EVENT_SCHEMA, type EventType } from '../src/format/event-schema.js';
import { openVolume } from '../src/volume/volume.js';
import { intIn, parseUint } from './args.js';
import { showBytes } from './output.js';
import { run } from './run.js';

interface EventsFlags {
  slot?: number;
  from: number;
  to: number;
  ino?: number;
  type?: string;
  json?: boolean;
  follow?: boolean;
  interval: number;
}

export function eventsCommand(): Command {
  return new Command('events')
    .description('list committed transactions and their events, per node, in seq order')
    .argument('<device>', 'block device or file holding the filesystem')
    .option('--slot <n>', 'only this node slot', parseUint)
    .option('--from <seq>', 'first seq', parseUint, 0)
    .option('--to <seq>', 'last seq (-1: no limit)', parseUint, Number.MAX_SAFE_INTEGER)
    .option('--ino <ino>', 'only events that touch this inode', parseUint)
    .option('--type <type>', 'only events of this type (e.g. InodeCreated)')
    .option('--json', 'one JSON object per event per line')
    .option('--follow', 'keep running and print transactions as they commit')
    .option('--interval <ms>', 'poll interval for --follow', intIn(10, 60000), 200)
    .action(
      run('events', async (device: string, f: EventsFlags) => {
        if (f.type && !Object.hasOwn(EVENT_SCHEMA, f.type)) {
          throw new UsageError(
            `unknown event type "${f.type}" (known: ${Object.keys(EVENT_SCHEMA).join(', ')})`,
          );
        }
        // with --follow, a signal at any point (even while the history prints) ends cleanly
        let stopped: () => void = () => {};
        const stop = new Promise<void>((resolve) => {
          stopped = resolve;
        });
        if (f.follow) {
          process.once('SIGINT', () => stopped());
          process.once('SIGTERM', () => stopped());
        }
        const vol = await openVolume(device, { readOnly: true });
        try {
          if (f.slot !== undefined && f.slot >= vol.sb.logSlots) {
            throw new UsageError(`slot ${f.slot} does not exist; the filesystem has ${vol.sb.logSlots}`);
          }
          const slots = f.slot !== undefined ? [f.slot] : [...Array(vol.sb.logSlots).keys()];
          const cursors = await Promise.all(slots.map((s) => LogCursor.atTail(vol, s)));
          const print = (t: Transaction) => {
            if (t.seq < f.from || t.seq > f.to) return;
            t.events.forEach((e, i) => {
              if (f.type && e.type !== f.type) return;
              if (f.ino !== undefined && !inodesOf(e).includes(f.ino)) return;
              process.stdout.write(`${f.json ? jsonLine(t, e, i) : textLine(t, e)}\n`);
            });
          };
          const txns = (await Promise.all(cursors.map((c) => c.readAll())))
            .flat()
            .sort((a, b) => a.seq - b.seq);
          txns.forEach(print);
          for (const c of cursors) {
            if (c.stop?.kind === 'torn')
              process.stderr.write(`slot ${c.slot}: log ends at a torn record (${c.stop.why})\n`);
          }
          if (!f.follow) return;
          await new Promise<void>((resolve, reject) => {
            const sub = merge(...cursors.map((c) => follow$(c, f.interval))).subscribe({
              next: print,
              error: reject,
            });
            stop.then(() => {
              sub.unsubscribe();
              resolve();
            });
          });
        } finally {
          await vol.dev.close();
        }
      }),
    );
}

function fieldsOf(e: FsEvent): [string, unknown][] {
  const values = e as unknown as Record<string, unknown>;
  return EVENT_SCHEMA[e.type as EventType].fields.map(([name]) => [name, values[name]]);
}

function textLine(t: Transaction, e: FsEvent): string {
  const fields = fieldsOf(e).map(([k, v]) => `${k}=${showValue(k, v)}`);
  return `seq ${t.seq} slot ${t.slot} ${e.type} ${fields.join(' ')}`;
}

function jsonLine(t: Transaction, e: FsEvent, index: number): string {
  const o: Record<string, unknown> = {
    seq: t.seq,
    slot: t.slot,
    lsn: t.lsn,
    commitMs: t.commitMs,
    index,
    type: e.type,
  };
  for (const [k, v] of fieldsOf(e)) {
    if (v instanceof Uint8Array) {
      const text = Buffer.from(v).toString('utf8');
      if (Buffer.from(text, 'utf8').equals(v)) o[k] = text;
      else o[`${k}_base64`] = Buffer.from(v).toString('base64');
    } else if (isTime(v)) o[k] = timeText(v);
    else o[k] = v;
  }
  return JSON.stringify(o);
}

function showValue(name: string, v: unknown): string {
  if (v instanceof Uint8Array) return showBytes(v);
  if (isTime(v)) return timeText(v);
  if (name === 'mode' && typeof v === 'number') return `0${v.toString(8)}`;
  return String(v);
}

const isTime = (v: unknown): v is { sec: number; nsec: number } =>
  typeof v === 'object' && v !== null && 'sec' in v && 'nsec' in v;
const timeText = (t: { sec: number; nsec: number }) => `${t.sec}.${String(t.nsec).padStart(9, '0')}`;
