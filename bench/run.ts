/*
 * The bench entry: `npm run bench [-- NAME...]`.
 *
 * Prints the machine first, then each selected benchmark's report (progress goes to stderr so
 * stdout is the report alone). Benchmarks run in a scratch directory under the system temp dir,
 * on whatever filesystem that is, and the directory is removed afterwards, also on Ctrl-C.
 * Arguments select benchmarks by name; none runs them all. Arguments after a name that are
 * not names go to that benchmark (`npm run bench -- scale 100000`).
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { runLogBench } from './log-bench.js';
import { describeMachine } from './machine.js';
import { runMountBench } from './mount-bench.js';
import { runScaleBench } from './scale-bench.js';

const BENCHMARKS: {
  name: string;
  about: string;
  run: (dir: string, note: (l: string) => void, args: readonly string[]) => Promise<string>;
}[] = [
  { name: 'log', about: 'log append + commit with fdatasync, against raw write+fdatasync', run: runLogBench },
  {
    name: 'scale',
    about: 'a volume of 1,000,000 inodes (or as given): build, reopen, walk-inodes vs a full scan',
    run: runScaleBench,
  },
  {
    name: 'mount',
    about: 'real mounts: metadata op rates and sequential MiB/s, scoutfs vs bindfs, in-memory FUSE, local',
    run: runMountBench,
  },
];

const argsOf = new Map<string, string[]>();
const unknown: string[] = [];
for (const a of process.argv.slice(2)) {
  if (BENCHMARKS.some((b) => b.name === a)) argsOf.set(a, argsOf.get(a) ?? []);
  else if (argsOf.size > 0) [...argsOf.values()].at(-1)!.push(a);
  else unknown.push(a);
}
const selected = BENCHMARKS.filter((b) => argsOf.size === 0 || argsOf.has(b.name));
if (unknown.length > 0) {
  process.stderr.write(
    `unknown benchmark ${unknown.join(', ')}; known: ${BENCHMARKS.map((b) => b.name).join(', ')}\n`,
  );
  process.exit(2);
}

const dir = mkdtempSync(join(tmpdir(), 'scoutfs-bench-'));
const cleanup = () => rmSync(dir, { recursive: true, force: true });
// `on`, not `once`: under tsx the signal can arrive twice (from the terminal and relayed by tsx),
// and a second one with no listener left would kill the process before the cleanup ran
for (const [signal, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
] as const) {
  process.on(signal, () => {
    cleanup();
    process.exit(code);
  });
}

try {
  const m = describeMachine(dir);
  const started = performance.now();
  const loadBefore = loadavg()[0]!;
  console.log(`machine: ${m.cpu}, ${m.cores} cores, node ${m.node}, ${m.kernel}`);
  console.log(`scratch: ${dir} on ${m.fsType} (${m.fsSource} at ${m.mountPoint})`);
  console.log(`load average at start: ${loadBefore.toFixed(2)}`);
  for (const b of selected) {
    console.log(`\n== ${b.name}: ${b.about}\n`);
    console.log(await b.run(dir, (line) => process.stderr.write(`  .. ${line}\n`), argsOf.get(b.name) ?? []));
  }
  const loadAfter = loadavg()[0]!;
  const secs = ((performance.now() - started) / 1000).toFixed(1);
  console.log(`\nbench took ${secs} s; load average at end: ${loadAfter.toFixed(2)}`);
  if (Math.max(loadBefore, loadAfter) > m.cores) {
    console.log(
      `warning: the machine was busy (load above ${m.cores} cores): wall-clock rates are pessimistic; ` +
        'the vs-raw ratios (alternating rounds) and per-CPU-second figures hold better',
    );
  }
} finally {
  cleanup();
}
