/*
 * The mount benchmark's report: what each filesystem was and how it was mounted, one table of
 * rates (with scoutfs over bindfs and over the in-memory ceiling), and one of the serving
 * process's CPU per operation, which tells a server that is busy on its one JS thread (near
 * 100%) from one that is waiting on the disk or the kernel.
 */

import {
  type Phase,
  type PhaseName,
  SLICES,
  WARM_FILES,
  WARM_MIB,
  type WorkloadResult,
} from './mount-workload.js';
import { int, table, times } from './table.js';

export interface TargetRun {
  label: string;
  about: string;
  result: WorkloadResult | null;
  /** Why it has no result. */
  error: string | null;
}

export interface MountReport {
  files: number;
  mib: number;
  cachesDropped: boolean;
  runs: readonly TargetRun[];
}

export function renderMountReport(r: MountReport): string {
  const rows: [PhaseName, string][] = [
    ['create', 'create (ops/s)'],
    ['stat', 'stat (ops/s)'],
    ['readdir', `readdir of ${int(r.files)} (/s)`],
    ['rename', 'rename (ops/s)'],
    ['unlink', 'unlink (ops/s)'],
    ['write', 'write (MiB/s)'],
    ['read', 'read (MiB/s)'],
  ];
  const byLabel = (label: string) => r.runs.find((x) => x.label === label)?.result ?? null;
  const [scoutfs, bindfs, mem] = [byLabel('scoutfs'), byLabel('bindfs'), byLabel('in-memory')];
  const rate = (p: Phase | undefined) => (p ? (p.count * 1000) / p.ms : Number.NaN);

  const rates = table(
    ['', ...r.runs.map((x) => x.label), 'scoutfs/bindfs', 'scoutfs/in-memory'],
    rows.map(([phase, label]) => [
      label,
      ...r.runs.map((x) => figure(rate(x.result?.[phase]))),
      times(rate(scoutfs?.[phase]), rate(bindfs?.[phase])),
      times(rate(scoutfs?.[phase]), rate(mem?.[phase])),
    ]),
  );
  const served = r.runs.filter((x) => x.label !== 'local');
  const cpu = table(
    ['serving process CPU', ...served.map((x) => x.label)],
    rows.map(([phase, label]) => [
      `${label.replace(/ \(.*\)$/, '')} per ${phase === 'write' || phase === 'read' ? 'MiB' : 'op'}`,
      ...served.map((x) => cpuPerOp(x.result?.[phase])),
    ]),
  );
  return [
    `workload: ${int(r.files)} empty files in one directory (create, stat each, readdir repeated, rename ` +
      `each, unlink each), then one ${int(r.mib)} MiB file (1 MiB writes, fsync before close; read back ` +
      '1 MiB at a time), one synchronous syscall at a time from a process that serves no mount',
    `warm-up: first, untimed, ${int(WARM_FILES)} files created, stat'ed, renamed and unlinked and ${int(WARM_MIB)} MiB ` +
      'written and read back on every filesystem (so the JIT is not timed)',
    `order: all mounted at once; each phase in ${SLICES} slices, each slice on every filesystem in turn, ` +
      'alternating ABCD and DCBA',
    r.cachesDropped
      ? 'caches: page, dentry and inode caches dropped (sync; echo 3 > drop_caches) before every slice of ' +
        'stat, readdir and read'
      : 'caches: NOT dropped (drop_caches not writable): stat and read may be served from the kernel caches',
    ...r.runs.map((x) => `  ${x.label.padEnd(10)} ${x.about}`),
    ...r.runs.filter((x) => x.error).map((x) => `  ${x.label} FAILED: ${x.error}`),
    '',
    rates,
    '',
    cpu,
    "(CPU as user + system time of the serving process, and its share of the phase's wall time: near 100% " +
      "means the server's own thread is the limit)",
  ].join('\n');
}

function figure(n: number): string {
  if (!Number.isFinite(n)) return '-';
  return n < 100 ? n.toFixed(1) : int(n);
}

function cpuPerOp(p: Phase | undefined): string {
  if (!p || !Number.isFinite(p.serverCpuMs)) return '-';
  const per = p.serverCpuMs / p.count;
  const each = per < 1 ? `${Math.round(per * 1000)} µs` : `${per.toFixed(per < 10 ? 2 : 1)} ms`;
  return `${each}  ${Math.round((p.serverCpuMs / p.ms) * 100)}%`;
}
