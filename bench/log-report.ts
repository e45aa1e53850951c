/*
 * The log benchmark's report: three plain tables and a verdict.
 *
 * 1. CPU only: encoding, record building and the whole writer with IO discarded, per second of
 *    wall clock and per second of process CPU time (the second holds on a busy machine).
 * 2. Durable appends: each scenario's rates on the file device, each against raw
 *    write+fdatasync of the same bytes per fdatasync, measured in alternating rounds.
 * 3. Where one fdatasync cycle goes: the writer's CPU time for the operations one fdatasync
 *    carries (from the no-IO run) next to one raw write+fdatasync, against what was measured;
 *    the larger part is the limit.
 * The verdict checks the target: more than 100,000 events/s at batches of 100 or more.
 */

import type { AppendResult } from './log-append.js';
import type { ScenarioResult } from './log-bench.js';
import { percentile, perSecond } from './measure.js';
import type { CpuRate, EncodeResult } from './reference.js';
import { bytes, int, millis, table, times } from './table.js';

const TARGET_EVENTS_PER_SEC = 100_000;
const TARGET_MIN_BATCH = 100;

export interface LogReport {
  encode: EncodeResult;
  records: (CpuRate & { batch: number })[];
  batches: ScenarioResult[];
  group: ScenarioResult;
}

export function renderLogReport(r: LogReport): string {
  const all = [...r.batches, r.group];
  return [
    "CPU only, no IO (per CPU-second = per second of this process's user+system time)",
    cpuTable(r, all),
    `mean encoded event: ${r.encode.bytesPerEvent.toFixed(1)} bytes`,
    '',
    'Append + await commit() on the file device, one fdatasync per commit, vs raw write+fdatasync',
    durableTable(all),
    'raw = fs.write of the same bytes + fs.fdatasync, sequential, plain sparse file in the same dir;',
    'vs raw = fdatasyncs/s over raw fdatasyncs/s over all rounds; median and range of the per-round ratios',
    '',
    'Where one fdatasync cycle goes, ms: writer CPU for the ops it carries (IO-discarded run) + raw',
    'write+fdatasync of its bytes, vs measured; cpu busy = process CPU time / wall time (log run / raw run)',
    timeTable(all),
    '',
    ...summary(r, all),
  ].join('\n');
}

function cpuTable(r: LogReport, all: ScenarioResult[]): string {
  const writer = (s: ScenarioResult) => [
    `log writer, IO discarded, ${s.label}`,
    int(rate(s.noIo, s.noIo.events)),
    int(perSecond(s.noIo.events, s.noIo.cpuMs)),
    int(perSecond(s.noIo.txns, s.noIo.cpuMs)),
  ];
  return table(
    ['what', 'events/s', 'events/CPU-s', 'commits/CPU-s'],
    [
      ['encodeEvent, one call per event', ...cpuCells(r.encode.encodeEvent), '-'],
      ['encodeEvents, 100 events per call', ...cpuCells(r.encode.encodeEvents100), '-'],
      ['cbor-x alone, same wire arrays, per event', ...cpuCells(r.encode.cborOnly), '-'],
      ...r.records.map((x) => [
        `record build (encode+crc), B=${x.batch}`,
        ...cpuCells(x),
        int(x.perCpuSec / x.batch),
      ]),
      ...all.map(writer),
    ],
  );
}

function cpuCells(x: CpuRate): string[] {
  return [int(x.perSec), int(x.perCpuSec)];
}

function durableTable(all: ScenarioResult[]): string {
  return table(
    [
      'scenario',
      'ops/s',
      'events/s',
      'commits/s',
      'ev/commit',
      'fdatasyncs/s',
      'bytes/sync',
      'raw syncs/s',
      'vs raw',
      'median',
      'range',
      'p50 ms',
      'p99 ms',
      'raw p50',
    ],
    all.map((s) => [
      s.label,
      int(rate(s.file, s.file.ops)),
      int(rate(s.file, s.file.events)),
      int(rate(s.file, s.file.txns)),
      (s.file.txnEvents / s.file.txns).toFixed(1),
      int(rate(s.file, s.file.io.syncs)),
      bytes(s.file.io.bytes / s.file.io.syncs),
      int(rawRate(s)),
      times(rate(s.file, s.file.io.syncs), rawRate(s)),
      `${percentile(s.roundRatios, 50).toFixed(2)}x`,
      range(s.roundRatios),
      millis(percentile(s.file.latencies, 50)),
      millis(percentile(s.file.latencies, 99)),
      millis(percentile(s.raw.latencies, 50)),
    ]),
  );
}

function timeTable(all: ScenarioResult[]): string {
  return table(
    ['scenario', 'cpu ms', 'sync ms', 'cpu+sync', 'measured', 'cpu share', 'cpu busy log/raw', 'limited by'],
    all.map((s) => {
      const c = cycle(s);
      return [
        s.label,
        millis(c.cpu),
        millis(c.sync),
        millis(c.cpu + c.sync),
        millis(c.measured),
        `${Math.round((100 * c.cpu) / (c.cpu + c.sync))}%`,
        `${Math.round((100 * s.file.cpuMs) / s.file.ms)}% / ${Math.round((100 * s.raw.cpuMs) / s.raw.ms)}%`,
        c.cpu > c.sync ? 'CPU (encode + writer)' : 'fdatasync latency',
      ];
    }),
  );
}

function summary(r: LogReport, all: ScenarioResult[]): string[] {
  const lines = all.map((s) => {
    const syncs = rate(s.file, s.file.io.syncs);
    return (
      `${s.label}: commits/s ${int(rate(s.file, s.file.txns))}, fdatasyncs/s ${int(syncs)} = ` +
      `${times(syncs, rawRate(s))} of raw write+fdatasync (${int(rawRate(s))}/s at ${bytes(s.raw.bytes)}); ` +
      `events/s ${int(rate(s.file, s.file.events))}`
    );
  });
  const big = r.batches.filter((s) => (s.batch ?? 0) >= TARGET_MIN_BATCH);
  const met = big.every((s) => rate(s.file, s.file.events) > TARGET_EVENTS_PER_SEC);
  const figures = big.map((s) => `${s.label} ${int(rate(s.file, s.file.events))}`).join(', ');
  lines.push(
    `target: more than ${int(TARGET_EVENTS_PER_SEC)} events/s at batches of ${TARGET_MIN_BATCH} or more: ` +
      `${met ? 'MET' : 'NOT MET'} (${figures})`,
  );
  for (const s of big) {
    const c = cycle(s);
    const budget = (1000 * (s.batch ?? 1)) / TARGET_EVENTS_PER_SEC;
    const other = c.measured - c.cpu - c.sync;
    lines.push(
      `  ${s.label}: the target allows ${millis(budget)} ms per commit; measured ${millis(c.measured)} ms = ` +
        `writer CPU ${millis(c.cpu)} + raw write+fdatasync ${millis(c.sync)} + other ${millis(other)}; ` +
        `limited by ${c.cpu > c.sync ? 'CPU (encode + writer)' : 'fdatasync latency'}; ` +
        `writer CPU ceiling ${int(perSecond(s.noIo.events, s.noIo.cpuMs))} events per CPU-second`,
    );
  }
  const back = all.map((s) => `${s.label} ${int(s.back.events)}`).join(', ');
  const replay = perSecond(
    all.reduce((n, s) => n + s.back.events, 0),
    all.reduce((n, s) => n + s.back.ms, 0),
  );
  lines.push(`read back from each log: every appended event found (${back}); replay ${int(replay)} events/s`);
  const early = all.filter((s) => s.file.stoppedEarly || s.noIo.stoppedEarly).map((s) => s.label);
  if (early.length > 0) lines.push(`stopped early (log nearly full): ${early.join(', ')}`);
  return lines;
}

/** Per fdatasync of the file run: writer CPU (from the no-IO run), raw sync, measured wall, in ms. */
function cycle(s: ScenarioResult): { cpu: number; sync: number; measured: number } {
  const opsPerSync = s.file.ops / Math.max(1, s.file.io.syncs);
  return {
    cpu: (s.noIo.cpuMs / Math.max(1, s.noIo.ops)) * opsPerSync,
    sync: s.raw.ms / Math.max(1, s.raw.ops),
    measured: s.file.ms / Math.max(1, s.file.io.syncs),
  };
}

function rawRate(s: ScenarioResult): number {
  return perSecond(s.raw.ops, s.raw.ms);
}

function rate(a: AppendResult, count: number): number {
  return perSecond(count, a.ms);
}

function range(values: readonly number[]): string {
  if (values.length === 0) return '-';
  return `${Math.min(...values).toFixed(2)}..${Math.max(...values).toFixed(2)}`;
}
