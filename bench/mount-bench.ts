/*
 * The mount benchmark: scoutfs through a real FUSE mount, against the same workload on a bindfs
 * passthrough (a C FUSE server over the local disk), on an in-memory fuse-native filesystem
 * (what any fuse-native filesystem pays before doing work of its own) and on the local
 * filesystem itself, all in one run. `npm run bench -- mount [FILES [MIB [TIMEOUT]]]`: 5,000
 * files, 512 MiB and 1 s of entry/attribute caching for scoutfs and the in-memory mount (what
 * bindfs gets from libfuse) unless given; TIMEOUT 0 is what scoutfs mounts with by default on a
 * volume of several log slots.
 *
 * Everything is mounted first, then one workload (mount-workload.ts) runs in a child process of
 * this one, phase by phase across all the mounts: this process serves no mount, but a hung
 * mount must not take the cleanup down with it. The mounts live in a scratch directory of their
 * own and come down in a finally block; if the bench dies first (Ctrl-C, SIGTERM, anything),
 * a watchdog process started before the first mount takes them down (mount-watchdog.ts), and a
 * signal handler here only kills the workload. A target that fails to mount or fails its
 * workload is reported as such and the others go on.
 */

import type { ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { callChild } from './child-call.js';
import { describeMachine } from './machine.js';
import { renderMountReport, type TargetRun } from './mount-report.js';
import { bindfsTarget, localTarget, memTarget, scoutfsTarget } from './mount-targets.js';
import { Watchdog } from './mount-watchdog.js';
import type { WorkloadInput, WorkloadOutput, WorkloadTarget } from './mount-workload.js';

export const DEFAULT_FILES = 5000;
export const DEFAULT_MIB = 512;
/** Seconds of entry and attribute caching for scoutfs and the in-memory mount: bindfs's. */
export const DEFAULT_TIMEOUT = 1;
const READDIR_MS = 2000;
/** A workload still running after this long is killed and the bench fails. */
const WORKLOAD_TIMEOUT_MS = 240_000;
const WORKLOAD = new URL('./mount-workload-child.ts', import.meta.url);
const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

export async function runMountBench(
  dir: string,
  note: (line: string) => void,
  args: readonly string[] = [],
): Promise<string> {
  const files = count(args[0], DEFAULT_FILES, 'files');
  const mib = count(args[1], DEFAULT_MIB, 'MiB');
  const timeout = seconds(args[2], DEFAULT_TIMEOUT);
  const scratch = mkdtempSync(join(tmpdir(), 'scoutfs-mount-bench-'));
  const targets = [
    scoutfsTarget(scratch, timeout),
    bindfsTarget(scratch),
    memTarget(scratch, timeout),
    localTarget(dir, describeMachine(dir).fsType),
  ];
  const watchdog = await Watchdog.start({ scratch, mounts: targets.flatMap((t) => t.guard ?? []) });
  let worker: ChildProcess | null = null;
  const onSignal = () => worker?.kill('SIGKILL');
  for (const s of SIGNALS) process.prependListener(s, onSignal);
  try {
    const runs: TargetRun[] = targets.map((t) => ({
      label: t.label,
      about: t.about,
      result: null,
      error: null,
    }));
    const started: WorkloadTarget[] = [];
    for (const [i, t] of targets.entries()) {
      try {
        const s = await t.start(note);
        if (s.serverPid !== null) watchdog.serving(s.serverPid);
        started.push({ label: t.label, ...s });
        runs[i]!.about = t.about;
      } catch (err) {
        failed(runs[i]!, (err as Error).message, note);
      }
    }
    const input: WorkloadInput = { targets: started, files, mib, readdirMs: READDIR_MS };
    const timer = setTimeout(() => worker?.kill('SIGKILL'), WORKLOAD_TIMEOUT_MS);
    let out: WorkloadOutput;
    try {
      out = await callChild<WorkloadOutput>(WORKLOAD, input, note, (c) => {
        worker = c;
      });
    } finally {
      clearTimeout(timer);
      worker = null;
    }
    for (const [i, o] of out.outcomes.entries()) {
      const run = runs.find((r) => r.label === started[i]!.label)!;
      if ('result' in o) run.result = o.result;
      else failed(run, o.error, note);
    }
    return renderMountReport({ files, mib, cachesDropped: out.cachesDropped, runs });
  } finally {
    for (const s of SIGNALS) process.off(s, onSignal);
    for (const t of [...targets].reverse()) {
      if (t.guard) note(`${t.label}: unmount`);
      await t.stop().catch((err: Error) => note(`${t.label}: unmount failed: ${err.message}`));
    }
    watchdog.release();
  }
}

function failed(run: TargetRun, message: string, note: (line: string) => void): void {
  run.error = message.split('\n')[0] ?? message;
  note(`${run.label} failed: ${message}`);
  process.exitCode = 1;
}

function count(arg: string | undefined, fallback: number, what: string): number {
  const n = arg === undefined ? fallback : Number(arg);
  if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`mount: "${arg}" is not a number of ${what}`);
  return n;
}

function seconds(arg: string | undefined, fallback: number): number {
  if (arg === undefined) return fallback;
  if (!/^\d+(\.\d+)?$/.test(arg)) throw new RangeError(`mount: "${arg}" is not a number of seconds`);
  return Number(arg);
}
