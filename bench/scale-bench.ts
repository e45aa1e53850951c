/*
 * The scale benchmark (issue "Projections and the LSM index"): build a volume of 1,000,000
 * inodes, change 1,000 of them, and ask which changed, with the meta_seq index and without it.
 *
 * The build and the changes run in a child process (scale-build.ts); the reopen, the walks and
 * the full scans run in a child process (scale-probe.ts), so each phase's peak RSS is its own.
 * `npm run bench -- scale [INODES [MEMTABLE_MIB [CACHE_MIB]]]`; `scale 100000` is a quick run.
 */

import { fork } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SERVER_V8_FLAGS } from '../src/node/server-flags.js';
import type { StoreOptions } from '../src/node/store.js';
import type { BuildResult } from './scale-build.js';
import type { ProbeInput, ProbeResult } from './scale-probe.js';
import { renderScaleReport } from './scale-report.js';
import { treeOf } from './scale-tree.js';

export const DEFAULT_INODES = 1_000_000;
export const CHANGES = 1000;
/** Memtable and unit cache budgets, MiB; in real memory each costs about 3x (see the report). */
const DEFAULT_MEMTABLE_MIB = 16;
const DEFAULT_CACHE_MIB = 16;
const MiB = 1024 * 1024;

export async function runScaleBench(
  dir: string,
  note: (line: string) => void,
  args: readonly string[] = [],
): Promise<string> {
  const [inodes, memtableMiB, cacheMiB] = [
    count(args[0], DEFAULT_INODES, CHANGES, 'inodes'),
    count(args[1], DEFAULT_MEMTABLE_MIB, 1, 'MiB of memtable'),
    count(args[2], DEFAULT_CACHE_MIB, 1, 'MiB of unit cache'),
  ];
  const store: StoreOptions = { memtableBytes: memtableMiB * MiB, cacheBytes: cacheMiB * MiB };
  const tree = treeOf(inodes);
  const path = join(dir, 'scale.img');
  try {
    const build = await buildInChild({ path, inodes, changes: CHANGES, store }, note);
    note('reopen, walk-inodes and full scans in a child process');
    const probe = await probeInChild({
      path,
      seqBefore: build.seqBefore,
      changed: build.changed,
      inodes: inodes + 1,
      store,
    });
    return renderScaleReport({ tree, store, build, probe });
  } finally {
    rmSync(path, { force: true });
  }
}

function count(arg: string | undefined, fallback: number, min: number, what: string): number {
  const n = arg === undefined ? fallback : Number(arg);
  if (!Number.isSafeInteger(n) || n < min)
    throw new RangeError(`scale: "${arg}" is not a number of ${what} >= ${min}`);
  return n;
}

type ChildMessage = { ok: true; result: ProbeResult } | { ok: false; error: string };
type BuildMessage = { note: string } | { ok: true; result: BuildResult } | { ok: false; error: string };

/**
 * The build runs in a child whose V8 heap is capped at this many MiB: the memtable and unit
 * cache budgets plus their overhead and compaction's working set fit in it, and V8 collects
 * garbage before the process grows past it. (With 192 MiB the 1M build peaked at 313 MB of
 * RSS while its heap in use stayed under 130 MB; with 160 MiB, at 295 MB.)
 */
export const BUILD_HEAP_MIB = 160;
const BUILD_CHILD = fileURLToPath(new URL('../dist/bench/scale-build-child.js', import.meta.url));
const PROBE_CHILD = fileURLToPath(new URL('../dist/bench/scale-child.js', import.meta.url));

function buildInChild(
  input: { path: string; inodes: number; changes: number; store: StoreOptions },
  note: (line: string) => void,
): Promise<BuildResult> {
  // the compiled build (npm run bench builds first) under plain node, as a mount runs: no tsx
  // loader, whose module-hooks thread alone holds tens of MB
  const child = fork(BUILD_CHILD, [JSON.stringify(input)], {
    stdio: ['ignore', 2, 2, 'ipc'],
    execArgv: [`--max-old-space-size=${BUILD_HEAP_MIB}`, ...SERVER_V8_FLAGS],
  });
  return new Promise((resolve, reject) => {
    let answer: BuildMessage | null = null;
    child.on('message', (m: BuildMessage) => {
      if ('note' in m) note(m.note);
      else answer = m;
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      const a = answer as BuildMessage | null;
      if (a && 'ok' in a && a.ok) resolve(a.result);
      else
        reject(
          new Error(
            (a && 'error' in a && a.error) || `build child exited with ${signal ?? code} before answering`,
          ),
        );
    });
  });
}

function probeInChild(input: ProbeInput): Promise<ProbeResult> {
  const child = fork(PROBE_CHILD, [JSON.stringify(input)], { stdio: ['ignore', 2, 2, 'ipc'], execArgv: [] });
  return new Promise((resolve, reject) => {
    let answer: ChildMessage | null = null;
    child.on('message', (m: ChildMessage) => {
      answer = m;
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      const a = answer as ChildMessage | null;
      if (a?.ok) resolve(a.result);
      else reject(new Error(a?.error ?? `probe child exited with ${signal ?? code} before answering`));
    });
  });
}
