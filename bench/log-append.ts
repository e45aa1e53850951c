/*
 * The log append scenarios: what an operation pays to make its events durable.
 *
 * Batches: one operation at a time appends B events and awaits commit(), so every transaction
 * is one record and one fdatasync; commits/s is the transaction rate and B times it the event
 * rate. Group commit: N operations in flight, each appending 1-4 events and awaiting commit();
 * the writer decides how many transactions each fdatasync carries and how many operations each
 * transaction holds, and the scenario reports what it observed (from the device's counts and
 * from committed$).
 *
 * A scenario is a meter that measures in slices, so the bench can interleave it with its
 * reference and both see the same disk and the same neighbours. Either scenario runs unchanged
 * on a device that discards IO, which gives the writer's CPU ceiling.
 */

import type { FsEvent } from '../src/events/event.js';
import { countsSince, type DeviceCounts } from './counting-device.js';
import { opSizes, run } from './events.js';
import { cpuNow, runFor, yieldSometimes } from './measure.js';
import type { ScratchLog } from './scratch-log.js';

const PREBUILT_BATCHES = 64;
/** Group commit: untimed run-up of each slice, so the window starts with the pipeline full. */
const GROUP_RAMP_MS = 50;

export interface AppendResult {
  /** Operations completed in the window (each appended its events and awaited commit). */
  ops: number;
  events: number;
  /** Transactions that became durable in the window, and the events they held. */
  txns: number;
  txnEvents: number;
  io: DeviceCounts;
  ms: number;
  cpuMs: number;
  latencies: number[];
  /** Events appended in the slice, run-up included (what a read-back must find). */
  appended: number;
  stoppedEarly: boolean;
}

export interface AppendMeter {
  /** Measure for `ms` of wall-clock time. */
  slice(ms: number): Promise<AppendResult>;
}

/** One operation at a time: append `batch` events, await commit(). */
export function appendBatches(log: ScratchLog, pool: readonly FsEvent[], batch: number): AppendMeter {
  const batches = Array.from({ length: PREBUILT_BATCHES }, (_, j) => run(pool, j * batch, batch));
  let next = 0;
  return {
    async slice(ms) {
      const window = windowCounter(log);
      window.open();
      const w = await runFor(
        async () => {
          await log.writer.append(batches[next++ % PREBUILT_BATCHES]!);
          await log.writer.commit();
        },
        ms,
        log.nearlyFull,
      );
      return { ...w, ...window.close(), events: w.ops * batch, appended: w.ops * batch };
    },
  };
}

/**
 * `inFlight` operations at once, each appending 1-4 events and awaiting commit(), in a loop.
 * The workers read the clock themselves: with IO discarded every await is a microtask, so a
 * timer would not fire in time (they step aside together now and then, for signals).
 */
export function groupCommit(log: ScratchLog, pool: readonly FsEvent[], inFlight: number): AppendMeter {
  const nextSize = opSizes(0x5eed);
  let at = 0;
  return {
    async slice(ms) {
      const window = windowCounter(log);
      const windowStart = performance.now() + GROUP_RAMP_MS;
      const end = windowStart + ms;
      const s = { phase: 'ramp' as 'ramp' | 'window' | 'done', openedAt: 0, closedAt: 0, cpu0: 0, cpuMs: 0 };
      let counted = zeroCounts();
      const latencies: number[] = [];
      let events = 0;
      let appended = 0;
      const tick = (now: number) => {
        if (s.phase === 'ramp' && now >= windowStart) {
          window.open();
          Object.assign(s, { phase: 'window', openedAt: now, cpu0: cpuNow() });
        }
        if (s.phase === 'window' && (now >= end || log.nearlyFull())) {
          counted = window.close();
          Object.assign(s, { phase: 'done', closedAt: now, cpuMs: cpuNow() - s.cpu0 });
        }
      };
      const worker = async () => {
        while (s.phase !== 'done') {
          const op = run(pool, at, nextSize());
          at += op.length;
          const t0 = performance.now();
          await log.writer.append(op);
          appended += op.length;
          await log.writer.commit();
          const now = performance.now();
          if (s.phase === 'window') {
            events += op.length;
            latencies.push(now - t0);
          }
          tick(now);
          await yieldSometimes();
        }
      };
      await Promise.all(Array.from({ length: inFlight }, worker));
      const stoppedEarly = s.closedAt < end;
      return {
        ...counted,
        ops: latencies.length,
        events,
        ms: s.closedAt - s.openedAt,
        cpuMs: s.cpuMs,
        latencies,
        appended,
        stoppedEarly,
      };
    },
  };
}

/** The sum of several slices of one scenario. */
export function addResults(slices: readonly AppendResult[]): AppendResult {
  return slices.reduce((a, b) => ({
    ops: a.ops + b.ops,
    events: a.events + b.events,
    txns: a.txns + b.txns,
    txnEvents: a.txnEvents + b.txnEvents,
    io: { writes: a.io.writes + b.io.writes, bytes: a.io.bytes + b.io.bytes, syncs: a.io.syncs + b.io.syncs },
    ms: a.ms + b.ms,
    cpuMs: a.cpuMs + b.cpuMs,
    latencies: [...a.latencies, ...b.latencies],
    appended: a.appended + b.appended,
    stoppedEarly: a.stoppedEarly || b.stoppedEarly,
  }));
}

interface WindowCounts {
  txns: number;
  txnEvents: number;
  io: DeviceCounts;
}

function zeroCounts(): WindowCounts {
  return { txns: 0, txnEvents: 0, io: { writes: 0, bytes: 0, syncs: 0 } };
}

/** Durable transactions (from committed$) and device counts between open() and close(). */
function windowCounter(log: ScratchLog): { open: () => void; close: () => WindowCounts } {
  let txns = 0;
  let txnEvents = 0;
  let atOpen = { txns: 0, txnEvents: 0, io: log.dev.counts };
  const sub = log.writer.committed$.subscribe((t) => {
    txns += 1;
    txnEvents += t.events.length;
  });
  return {
    open: () => {
      atOpen = { txns, txnEvents, io: log.dev.counts };
    },
    close: () => {
      sub.unsubscribe();
      return {
        txns: txns - atOpen.txns,
        txnEvents: txnEvents - atOpen.txnEvents,
        io: countsSince(log.dev.counts, atOpen.io),
      };
    },
  };
}
