/*
 * The log benchmark: append + commit on a file-backed filesystem, against its yardsticks.
 *
 * Each scenario runs on a fresh filesystem whose device discards IO (the writer's CPU ceiling),
 * then on a fresh file-backed filesystem, in short rounds that alternate (ABBA) with raw
 * write+fdatasync of the bytes per fdatasync the scenario's warm-up showed (the disk's
 * ceiling). Alternating puts the figure and its reference under the same disk and the same
 * neighbours, so their ratio holds better when the machine is busy; the per-round ratios give
 * its spread. The file run's log is read back from its tail at the
 * end, so no figure comes from a log that lost or garbled events. Pure encode cost is measured
 * first, with no writer at all.
 */

import { eventPool } from './events.js';
import { type AppendMeter, type AppendResult, addResults, appendBatches, groupCommit } from './log-append.js';
import { type LogReport, renderLogReport } from './log-report.js';
import { perSecond, type Window } from './measure.js';
import { encodeRates, RawFile, recordRate } from './reference.js';
import { freshLog, type ReadBack, readBack, type ScratchLog } from './scratch-log.js';

export const BATCHES = [1, 10, 100, 1000] as const;
export const IN_FLIGHT = 64;
export const TIMING = {
  cpuMs: 600,
  noIoWarmMs: 200,
  noIoMs: 800,
  fileWarmMs: 300,
  rawWarmMs: 100,
  rounds: 8,
  fileSliceMs: 200,
  rawSliceMs: 125,
} as const;

export interface RawResult {
  bytes: number;
  ops: number;
  ms: number;
  cpuMs: number;
  latencies: number[];
}

export interface ScenarioResult {
  label: string;
  /** Events per operation for the batch scenarios; null for group commit. */
  batch: number | null;
  file: AppendResult;
  noIo: AppendResult;
  raw: RawResult;
  /** Per round: the scenario's fdatasyncs/s over raw's. */
  roundRatios: number[];
  back: ReadBack;
}

type MakeMeter = (log: ScratchLog) => AppendMeter;

/** Run every log scenario in `dir` and return the report text; `note` gets progress lines. */
export async function runLogBench(dir: string, note: (line: string) => void): Promise<string> {
  const pool = eventPool();
  note('encodeEvent and record build, no IO');
  const encode = await encodeRates(pool, TIMING.cpuMs);
  const records: LogReport['records'] = [];
  for (const batch of BATCHES) records.push({ batch, ...(await recordRate(pool, batch, TIMING.cpuMs / 2)) });
  const batches: ScenarioResult[] = [];
  for (const b of BATCHES) {
    batches.push(await scenario(dir, `B=${b}`, b, (log) => appendBatches(log, pool, b), note));
  }
  const groupLabel = `group ${IN_FLIGHT}x(1-4)`;
  const group = await scenario(dir, groupLabel, null, (log) => groupCommit(log, pool, IN_FLIGHT), note);
  return renderLogReport({ encode, records, batches, group });
}

async function scenario(
  dir: string,
  label: string,
  batch: number | null,
  make: MakeMeter,
  note: (line: string) => void,
): Promise<ScenarioResult> {
  const name = label.replace(/[^a-z0-9]+/gi, '-');
  note(`${label}: log writer with IO discarded`);
  const cpuLog = await freshLog(dir, `${name}-noio`, { discard: true });
  let noIo: AppendResult;
  try {
    const meter = make(cpuLog);
    await meter.slice(TIMING.noIoWarmMs);
    noIo = await meter.slice(TIMING.noIoMs);
  } finally {
    await cpuLog.dispose();
  }

  note(`${label}: log writer on a file device, alternating with raw write+fdatasync`);
  const log = await freshLog(dir, name);
  let raw: RawFile | null = null;
  try {
    const meter = make(log);
    const warm = await meter.slice(TIMING.fileWarmMs);
    raw = await RawFile.open(dir, warm.io.bytes / Math.max(1, warm.io.syncs));
    await raw.slice(TIMING.rawWarmMs);
    const files: AppendResult[] = [];
    const raws: Window[] = [];
    for (let r = 0; r < TIMING.rounds; r++) {
      // ABBA order, so a drift in the disk's speed during the run weighs on both alike
      if (r % 2 === 1) raws.push(await raw.slice(TIMING.rawSliceMs));
      files.push(await meter.slice(TIMING.fileSliceMs));
      if (r % 2 === 0) raws.push(await raw.slice(TIMING.rawSliceMs));
    }
    await log.writer.commit();
    const file = addResults(files);
    const appended = warm.appended + file.appended;
    const back = await readBack(log.vol, log.firstSeq);
    if (back.events !== appended)
      throw new Error(`${label}: appended ${appended} events, read back ${back.events}`);
    const roundRatios = files.map(
      (f, i) => perSecond(f.io.syncs, f.ms) / perSecond(raws[i]!.ops, raws[i]!.ms),
    );
    return { label, batch, file, noIo, raw: sumRaw(raw.bytes, raws), roundRatios, back };
  } finally {
    await raw?.close();
    await log.dispose();
  }
}

function sumRaw(bytes: number, windows: readonly Window[]): RawResult {
  return {
    bytes,
    ops: windows.reduce((n, w) => n + w.ops, 0),
    ms: windows.reduce((n, w) => n + w.ms, 0),
    cpuMs: windows.reduce((n, w) => n + w.cpuMs, 0),
    latencies: windows.flatMap((w) => w.latencies),
  };
}
