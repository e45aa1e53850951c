/*
 * The scale benchmark's report: what was built and how, then one table of figures, each with
 * its target from the issue and whether it was met.
 *
 * Targets: reopen under 3 s, peak RSS under 300 MB (decimal: 300,000,000 bytes) for the build
 * and for the reopen+walk process each, walk-inodes under 100 ms of walk time (the first walk
 * after the reopen, as the CLI runs it: un-optimised code, run units read from the device), and
 * the full scan at least 100 times that walk's time, for both ways of scanning. Warm walks
 * (the code optimised, the units cached, as in a long-running mount) are shown beside them.
 */

import { SERVER_V8_FLAGS } from '../src/node/server-flags.js';
import type { StoreOptions } from '../src/node/store.js';
import { perSecond } from './measure.js';
import { BUILD_HEAP_MIB } from './scale-bench.js';
import type { BuildResult } from './scale-build.js';
import type { ProbeResult } from './scale-probe.js';
import type { Tree } from './scale-tree.js';
import { bytes, int, millis, table } from './table.js';

const TARGET = { reopenMs: 3000, rssBytes: 300e6, walkMs: 100, ratio: 100 } as const;

export interface ScaleReport {
  tree: Tree;
  store: StoreOptions;
  build: BuildResult;
  probe: ProbeResult;
}

export function renderScaleReport(r: ScaleReport): string {
  const { tree, build: b, probe: p } = r;
  const walk = p.walkMs[0]!;
  const warm = [...p.walkMs.slice(1)].sort((x, y) => x - y);
  const warmWalk = warm[Math.floor(warm.length / 2)] ?? Number.NaN;
  const rows: string[][] = [
    row('build rate, creates/s', int(perSecond(b.creates, b.buildMs))),
    row('build rate, events/s', int(perSecond(b.events, b.buildMs))),
    row('reopen (Store.open, fresh device handle)', secs(p.reopenMs), '< 3 s', p.reopenMs < TARGET.reopenMs),
    row('  transactions replayed at reopen', int(p.replayedTransactions)),
    row('peak RSS, build process', mb(b.peakRssBytes), '< 300 MB', b.peakRssBytes < TARGET.rssBytes),
    row(
      'peak RSS, reopen + walks (child)',
      mb(p.peakRssAfterWalkBytes),
      '< 300 MB',
      p.peakRssAfterWalkBytes < TARGET.rssBytes,
    ),
    row('  same child after the full scans', mb(p.peakRssBytes)),
    row(
      `walk-inodes meta_seq ${b.seqBefore + 1} -1, first`,
      `${millis(walk)} ms`,
      '< 100 ms',
      walk < TARGET.walkMs,
    ),
    row(
      '  inodes it returned (all changed, no other)',
      int(p.walkEntries),
      int(b.changed.length),
      p.walkEntries === b.changed.length,
    ),
    row(`  walks 2..${p.walkMs.length} after it (warm), median`, `${millis(warmWalk)} ms`),
    row('full scan: namespace walk from the root', secs(p.namespace.ms)),
    row(
      '  namespace walk / first walk-inodes',
      ratio(p.namespace.ms, walk),
      '>= 100x',
      p.namespace.ms / walk >= 100,
    ),
    row('  namespace walk / warm walk-inodes', ratio(p.namespace.ms, warmWalk)),
    row('full scan: every fs item, keep inodes', secs(p.inodeScan.ms)),
    row(
      '  fs item scan / first walk-inodes',
      ratio(p.inodeScan.ms, walk),
      '>= 100x',
      p.inodeScan.ms / walk >= 100,
    ),
    row('  fs item scan / warm walk-inodes', ratio(p.inodeScan.ms, warmWalk)),
  ];
  return [
    "built through the filesystem API as the mount runs it (Node on slot 1: fs.create, the node's own",
    'commits, checkpoints and write stalls), not through FUSE (its round trips would measure the binding)',
    `device: sparse file of ${gib(b.deviceBytes)}; mkfs with 2 log slots of ${gib(b.logBytesPerSlot)}, ` +
      `meta region ${gib(b.metaBytes)} (see scale-build.ts for why so large)`,
    '',
    `volume: ${int(tree.inodes)} inodes under the root: ${int(tree.dirs)} directories, ${int(tree.files)} files; ` +
      `store: memtable ${bytes(r.store.memtableBytes ?? 0)}, unit cache ${bytes(r.store.cacheBytes ?? 0)}; ` +
      `the build runs in a child process with its V8 heap capped at ${BUILD_HEAP_MIB} MiB and a mount's V8 flags (${SERVER_V8_FLAGS.join(' ')})`,
    `build: ${int(b.creates)} creates = ${int(b.events)} events (InodeCreated + DirentAdded, InodesReserved) in ` +
      `${int(b.transactions)} transactions, ${secs(b.buildMs)} to durable and folded, CPU ${secs(b.buildCpuMs)} ` +
      `(${(b.buildCpuMs / b.buildMs).toFixed(2)} cores busy); then checkpoint ${secs(b.checkpointMs)}`,
    `write stalls (creates waiting for the checkpoint in flight): ${b.stalls}, ${secs(b.stallMs)} of the build; ` +
      `RSS of the child before it did anything (node and the compiled modules, no tsx): ${mb(p.baselineRssBytes)}`,
    `log: peak ${int(b.logPeakBlocks)} of ${int(b.logCapacityBlocks)} blocks, ${b.trims} trims; ` +
      `index: ${b.runs} runs, ${int(b.runItems)} entries in them, manifest generation ${b.manifests}; ` +
      `device file: ${bytes(b.deviceAllocatedBytes)} allocated`,
    `changes: ${int(b.changed.length)} chmods (InodeModeChanged) after seq ${b.seqBefore}, in ` +
      `${b.changeTransactions} transactions, then checkpoint and close`,
    `CPU time (user + system, all threads; holds better than wall time on a busy machine): reopen ` +
      `${secs(p.reopenCpuMs)}, first walk ${millis(p.firstWalkCpuMs)} ms`,
    `reopen: ${p.runs} runs; replayed ${int(p.replayedTransactions)} transactions, ${int(p.replayedEvents)} events; ` +
      `peak RSS right after it ${mb(p.rssAfterReopenBytes)}`,
    `walks, ms: ${p.walkMs.slice(0, 5).map(millis).join(', ')}, ... min ${millis(Math.min(...p.walkMs))}; ` +
      'the first is what the CLI gets (fresh process: cold JIT, run units read from the device, page cache warm)',
    `full scans: namespace walk ${int(p.namespace.inodes)} inodes, fs item scan ${int(p.inodeScan.inodes)} inodes; ` +
      'both found exactly the changed inodes',
    '',
    table(['figure', 'measured', 'target', 'met'], rows),
  ].join('\n');
}

function row(label: string, value: string, target = '-', ok?: boolean): string[] {
  return [label, value, target, ok === undefined ? '-' : ok ? 'yes' : 'NO'];
}

const secs = (ms: number) => `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
const gib = (n: number) => `${+(n / 1024 ** 3).toFixed(2)} GiB`;
const mb = (n: number) => `${(n / 1e6).toFixed(0)} MB`;
const ratio = (a: number, b: number) => (b > 0 ? `${Math.round(a / b).toLocaleString('en-US')}x` : '-');
