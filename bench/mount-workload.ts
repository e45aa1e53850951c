/*
 * The mount benchmark's workload, the same on every filesystem: in a fresh directory, create
 * FILES empty files, stat each, list the directory again and again, rename each, unlink each;
 * then write one file of MIB MiB sequentially in 1 MiB writes ending in fsync, and read it back.
 *
 * First, untimed, every filesystem gets a warm-up of the same operations (WARM_FILES files
 * created, stat'ed, renamed and unlinked, WARM_MIB MiB written and read back), so what is timed
 * is a server in its steady state, not the JIT compiling its code paths.
 *
 * All the filesystems are mounted at once and each phase runs in slices (a quarter of the files,
 * of the listing time, of the file's chunks), each slice on every filesystem before the next,
 * in alternating order (ABCD, then DCBA), so a burst of load from elsewhere on the machine
 * weighs on all of them alike and their ratios hold better than their rates. The big file stays
 * open across its slices; fsync and close come with the last write slice.
 *
 * Every call is a synchronous syscall (openSync, statSync, ...), one at a time, so a phase's
 * rate is the round trip of one operation through the kernel and whatever serves the mount,
 * with no libuv thread pool or queueing in front of it. Before every slice of stat, readdir and
 * read the kernel's caches are dropped (when we may), so each stat is a LOOKUP that reaches the server
 * and each read comes from the filesystem, whatever the mount's cache timeouts. The serving
 * process's CPU time is read around every phase. The file's bytes are checked on the way back
 * (each 1 MiB chunk starts with its index), so no figure comes from a filesystem that lost data.
 * A filesystem that fails drops out with its error; the others go on.
 */

import { randomBytes } from 'node:crypto';
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readSync,
  renameSync,
  rmdirSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { dropCaches } from './drop-caches.js';
import { processCpuMs } from './proc-cpu.js';

const MiB = 1024 * 1024;
export const SLICES = 4;
/** Bytes of each chunk compared on read: enough to catch a misplaced or missing chunk. */
const CHECK_BYTES = 4096;
export const WARM_FILES = 2000;
export const WARM_MIB = 32;

export interface WorkloadTarget {
  label: string;
  /** A directory on the filesystem under test (the mount point, or a local directory). */
  dir: string;
  /** The process serving the mount, whose CPU time each phase reports; null for none. */
  serverPid: number | null;
}

export interface WorkloadInput {
  targets: WorkloadTarget[];
  files: number;
  mib: number;
  /** How long to keep listing the directory. */
  readdirMs: number;
}

export interface Phase {
  /** Operations, or MiB for write and read. */
  count: number;
  ms: number;
  /** CPU time of the serving process during the phase; NaN without one. */
  serverCpuMs: number;
}

export const PHASES = ['create', 'stat', 'readdir', 'rename', 'unlink', 'write', 'read'] as const;
export type PhaseName = (typeof PHASES)[number];

/** Per phase; readdir's count is whole listings of the directory, each of `files` names. */
export type WorkloadResult = Record<PhaseName, Phase>;

export interface WorkloadOutput {
  /** In the order of the input's targets. */
  outcomes: ({ result: WorkloadResult } | { error: string })[];
  /** False if drop_caches could not be written (not root). */
  cachesDropped: boolean;
}

interface Run {
  target: WorkloadTarget;
  root: string;
  names: string[];
  renamed: string[];
  big: string;
  /** The big file while a write or read phase has it open. */
  fd: number | null;
  phases: Partial<WorkloadResult>;
  error: string | null;
}

/** Slice `s` of `SLICES` of the range [0, n). */
type Part = { from: number; to: number; first: boolean; last: boolean };

export async function runWorkload(w: WorkloadInput, note: (line: string) => void): Promise<WorkloadOutput> {
  const chunk = randomBytes(MiB);
  const bodies: Record<PhaseName, { what: string; drop: boolean; body: (r: Run, p: Part) => number }> = {
    create: { what: `create ${w.files} empty files`, drop: false, body: create },
    stat: { what: 'stat each, caches dropped', drop: true, body: stat },
    readdir: {
      what: `readdir for ${w.readdirMs} ms, caches dropped`,
      drop: true,
      body: (r) => readdir(r, w.readdirMs / SLICES),
    },
    rename: { what: 'rename each', drop: false, body: rename },
    unlink: { what: 'unlink each', drop: false, body: unlink },
    write: {
      what: `write ${w.mib} MiB, 1 MiB writes, fsync`,
      drop: false,
      body: (r, p) => write(r, p, chunk),
    },
    read: { what: `read ${w.mib} MiB, caches dropped`, drop: true, body: (r, p) => read(r, p, chunk) },
  };
  const runs = w.targets.map((target): Run => {
    const root = join(target.dir, 'bench');
    const names = Array.from({ length: w.files }, (_, i) => join(root, `f${i}`));
    const renamed = names.map((p) => `${p}-renamed`);
    return { target, root, names, renamed, big: join(root, 'big'), fd: null, phases: {}, error: null };
  });
  let cachesDropped = true;
  const attempt = (r: Run, work: () => void) => {
    if (r.error !== null) return;
    try {
      work();
    } catch (err) {
      r.error = (err as Error).message;
      note(`${r.target.label} failed: ${r.error}`);
    }
  };

  for (const r of runs) attempt(r, () => mkdirSync(r.root));
  for (const r of runs) {
    note(`${r.target.label}: warm-up, ${WARM_FILES} files and ${WARM_MIB} MiB, untimed`);
    await new Promise((resolve) => setImmediate(resolve));
    attempt(r, () => warmUp(r, chunk));
  }
  let turn = 0;
  for (const phase of PHASES) {
    const { what, drop, body } = bodies[phase];
    for (let s = 0; s < SLICES; s++) {
      const n = phase === 'write' || phase === 'read' ? w.mib : w.files;
      const part = {
        from: Math.floor((n * s) / SLICES),
        to: Math.floor((n * (s + 1)) / SLICES),
        first: s === 0,
        last: s === SLICES - 1,
      };
      for (const r of turn++ % 2 === 0 ? runs : [...runs].reverse()) {
        if (r.error !== null) continue;
        if (s === 0) note(`${r.target.label}: ${what}`);
        // let the note go out before the loop holds the event loop
        await new Promise((resolve) => setImmediate(resolve));
        if (drop) cachesDropped = dropCaches() && cachesDropped;
        attempt(r, () => {
          r.phases[phase] = add(
            r.phases[phase],
            timed(r.target.serverPid, () => body(r, part)),
          );
        });
      }
    }
  }
  for (const r of runs) {
    attempt(r, () => {
      unlinkSync(r.big);
      rmdirSync(r.root);
    });
  }
  return {
    outcomes: runs.map((r) =>
      r.error === null ? { result: r.phases as WorkloadResult } : { error: r.error },
    ),
    cachesDropped,
  };
}

/** Every phase's operations, untimed, in a directory of their own that is gone afterwards. */
function warmUp(r: Run, chunk: Buffer): void {
  const dir = join(r.root, 'warm-up');
  mkdirSync(dir);
  const names = Array.from({ length: WARM_FILES }, (_, i) => join(dir, `f${i}`));
  const all = { from: 0, to: WARM_FILES, first: true, last: true };
  const w: Run = { ...r, root: dir, names, renamed: names.map((p) => `${p}-renamed`), big: join(dir, 'big') };
  create(w, all);
  stat(w, all);
  readdir(w, 0);
  rename(w, all);
  unlink(w, all);
  const chunks = { from: 0, to: WARM_MIB, first: true, last: true };
  write(w, chunks, chunk);
  read(w, chunks, chunk);
  unlinkSync(w.big);
  rmdirSync(dir);
}

function timed(serverPid: number | null, body: () => number): Phase {
  const cpu = () => (serverPid === null ? Number.NaN : processCpuMs(serverPid));
  const cpu0 = cpu();
  const t0 = performance.now();
  const count = body();
  const ms = performance.now() - t0;
  return { count, ms, serverCpuMs: cpu() - cpu0 };
}

function add(a: Phase | undefined, b: Phase): Phase {
  if (!a) return b;
  return { count: a.count + b.count, ms: a.ms + b.ms, serverCpuMs: a.serverCpuMs + b.serverCpuMs };
}

function create(r: Run, p: Part): number {
  for (let i = p.from; i < p.to; i++) closeSync(openSync(r.names[i]!, 'wx'));
  return p.to - p.from;
}

function stat(r: Run, p: Part): number {
  for (let i = p.from; i < p.to; i++) statSync(r.names[i]!);
  return p.to - p.from;
}

function readdir(r: Run, ms: number): number {
  const end = performance.now() + ms;
  let n = 0;
  for (; n < 1 || performance.now() < end; n++) {
    const got = readdirSync(r.root).length;
    if (got !== r.names.length) throw new Error(`readdir gave ${got} names, not ${r.names.length}`);
  }
  return n;
}

function rename(r: Run, p: Part): number {
  for (let i = p.from; i < p.to; i++) renameSync(r.names[i]!, r.renamed[i]!);
  return p.to - p.from;
}

function unlink(r: Run, p: Part): number {
  for (let i = p.from; i < p.to; i++) unlinkSync(r.renamed[i]!);
  return p.to - p.from;
}

/** Chunks [from, to) of the big file, opened by the first slice; fsync and close in the last. */
function write(r: Run, p: Part, chunk: Buffer): number {
  if (p.first) r.fd = openSync(r.big, 'wx');
  const fd = r.fd!;
  for (let i = p.from; i < p.to; i++) {
    chunk.writeUInt32LE(i, 0);
    if (writeSync(fd, chunk, 0, MiB, i * MiB) !== MiB) throw new Error(`short write at chunk ${i}`);
  }
  if (p.last) {
    r.fd = null;
    fsyncSync(fd);
    closeSync(fd);
  }
  return p.to - p.from;
}

/** Read chunks [from, to) back, checking each chunk's start; the last slice checks the end. */
function read(r: Run, p: Part, chunk: Buffer): number {
  if (p.first) r.fd = openSync(r.big, 'r');
  const fd = r.fd!;
  const got = Buffer.alloc(MiB);
  for (let i = p.from; i < p.to; i++) {
    readFully(fd, got, i);
    chunk.writeUInt32LE(i, 0);
    if (!got.subarray(0, CHECK_BYTES).equals(chunk.subarray(0, CHECK_BYTES)))
      throw new Error(`chunk ${i} read back differs from what was written`);
  }
  if (p.last) {
    r.fd = null;
    const past = readSync(fd, got, 0, 1, p.to * MiB);
    closeSync(fd);
    if (past !== 0) throw new Error('file longer than written');
  }
  return p.to - p.from;
}

function readFully(fd: number, buf: Buffer, chunk: number): void {
  for (let off = 0; off < buf.length; ) {
    const n = readSync(fd, buf, off, buf.length - off, chunk * MiB + off);
    if (n === 0) throw new Error(`end of file inside chunk ${chunk}`);
    off += n;
  }
}
