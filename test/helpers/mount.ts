/*
 * Real mounts for tests: make a volume on a file (or a loop device), mount it with the real CLI
 * (`scoutfs mount`, which serves from a detached process), and always unmount.
 *
 * `withMount` unmounts in a finally block, so a failed assertion never leaves a mount behind;
 * if the clean unmount fails, or the serving process is dead, the mount is aborted through
 * fusectl and detached. Tests talk to the mount with ordinary syscalls and tools, which is
 * safe: the serving process is another process. The serving process's log in the run directory
 * is removed after a test that passed, and kept after one that failed.
 */

import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseMountOptions } from '../../cli/mount-options.js';
import { entryId, pathsFor } from '../../src/control/registry.js';
import { type CliResult, scoutfs } from './cli.js';

export interface TestMount {
  /** The mount point. */
  dir: string;
  /** The device (a file, or a loop device). */
  device: string;
  /** The scratch directory holding the image (outside the mount). */
  scratch: string;
  /** Run `scoutfs ARGS...`. */
  cli(...args: string[]): Promise<CliResult>;
  /** PID of the serving process. */
  pid(): number;
  /** Clean unmount (scoutfs umount); the finally block is then a no-op. */
  unmount(): Promise<void>;
  /** Mount the same device again at the same point (after unmount or a crash cleanup). */
  remount(): Promise<void>;
}

export interface MountOptions {
  size?: string;
  /** Extra `-o` options. */
  options?: string[];
  /** Put the image behind a loop device. */
  loop?: boolean;
  /** mkfs -Q. */
  quorum?: number;
}

export async function withMount(fn: (m: TestMount) => Promise<void>, o: MountOptions = {}): Promise<void> {
  const scratch = mkdtempSync(join(tmpdir(), 'scoutfs-mnt-'));
  const image = join(scratch, 'volume.img');
  const dir = join(scratch, 'mnt');
  execFileSync('mkdir', ['-p', dir]);
  execFileSync('truncate', ['-s', o.size ?? '256M', image]);
  let device = image;
  if (o.loop) device = execFileSync('losetup', ['-f', '--show', image], { encoding: 'utf8' }).trim();
  let passed = false;
  try {
    const mk = await scoutfs('mkfs', '-Q', String(o.quorum ?? 1), device);
    if (mk.code !== 0) throw new Error(`mkfs failed: ${mk.stderr}`);
    const mount = async () => {
      const r = await scoutfs('mount', ...(o.options ?? []).flatMap((x) => ['-o', x]), device, dir);
      if (r.code !== 0) throw new Error(`mount failed: ${r.stderr}`);
    };
    await mount();
    const m: TestMount = {
      dir,
      device,
      scratch,
      cli: scoutfs,
      pid: () => servingPid(dir),
      unmount: async () => {
        const r = await scoutfs('umount', dir);
        if (r.code !== 0) throw new Error(`umount failed: ${r.stderr}`);
      },
      remount: mount,
    };
    await fn(m);
    passed = true;
  } finally {
    if (isMounted(dir)) {
      const r = await scoutfs('umount', dir).catch(() => null);
      if (r?.code !== 0 || isMounted(dir)) forceUnmount(dir);
    }
    if (passed) {
      const { slot } = parseMountOptions(o.options ?? []);
      rmSync(pathsFor(await entryId(device, slot)).log, { force: true });
    }
    if (o.loop) spawnSync('losetup', ['-d', device]);
    rmSync(scratch, { recursive: true, force: true });
  }
}

export function isMounted(dir: string): boolean {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .some((l) => l.split(' ')[4] === dir);
}

/** The pid recorded in the registry for the mount at `dir`. */
export function servingPid(dir: string): number {
  const runDir = process.env.SCOUTFS_RUN_DIR ?? '/run/scoutfs';
  for (const f of readdirSync(runDir).filter((n) => n.endsWith('.json'))) {
    const e = JSON.parse(readFileSync(join(runDir, f), 'utf8')) as { pid: number; mountpoint: string };
    if (e.mountpoint === dir) return e.pid;
  }
  throw new Error(`no registered mount at ${dir}`);
}

/** Abort a dead or hung FUSE connection and detach the mount point. */
export function forceUnmount(dir: string): void {
  const conns = '/sys/fs/fuse/connections';
  if (!existsSync(join(conns, '.')) || readdirSync(conns).length === 0) {
    spawnSync('mount', ['-t', 'fusectl', 'none', conns]);
  }
  // the connection is named by the mount's device minor, as mountinfo gives it ("0:53")
  const line = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .find((l) => l.split(' ')[4] === dir);
  const minor = line?.split(' ')[2]?.split(':')[1];
  const abort = minor ? join(conns, minor, 'abort') : '';
  if (abort && existsSync(abort)) writeFileSync(abort, '1');
  spawnSync('umount', ['-l', dir]);
}
