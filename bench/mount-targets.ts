/*
 * The filesystems the mount benchmark compares, each as a target it can start (mount, and give
 * the directory to work in and the serving process) and stop (unmount, always).
 *
 *   scoutfs     a fresh 4 GiB sparse image, mkfs -Q 1, mounted with the real CLI, which serves
 *               it from a detached process; its registry and log live in the scratch directory
 *   bindfs      a passthrough of a local directory, served by bindfs -f in a process of its own
 *   in-memory   mem-fuse.ts in a child process: the fuse-native ceiling
 *   local       a plain directory on the scratch filesystem, no FUSE
 *
 * The FUSE targets' servers are started detached (their own session), so a Ctrl-C at the
 * terminal does not take them down under a mount in use. `stop` unmounts in order and is
 * idempotent; each FUSE target also names its mount point as `guard`, for the watchdog that
 * unmounts it if the bench dies first (mount-watchdog.ts).
 */

import { type ChildProcess, execFile, fork, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { entryId } from '../src/control/registry.js';
import { DEFAULT_READ_AHEAD_KB, setReadAhead } from '../src/fuse/fuse-mount.js';
import { forceUnmount, isMounted, waitExit, waitMounted } from './fuse-unmount.js';
import type { MemFuseInput } from './mem-fuse-child.js';
import type { Guarded } from './mount-watchdog.js';

export interface Started {
  /** Where the workload runs. */
  dir: string;
  /** The process serving the mount, null for the local filesystem. */
  serverPid: number | null;
}

export interface Target {
  readonly label: string;
  /** Its mount options, for the report (completed by start where only the server knows). */
  about: string;
  /** The mount point, for the watchdog; none for a target that mounts nothing. */
  readonly guard: Guarded | null;
  start(note: (line: string) => void): Promise<Started>;
  stop(): Promise<void>;
}

const BIN = fileURLToPath(new URL('../bin/scoutfs.js', import.meta.url));
const IMAGE_BYTES = 4 * 1024 ** 3;
const MOUNT_MS = 20_000;
const EXIT_MS = 10_000;
/** Mount options scoutfs's FuseMount passes besides the timeouts; the in-memory mount copies them. */
const SCOUTFS_FUSE_OPTIONS = 'big_writes,max_write=131072,use_ino';

/** scoutfs with `timeout` seconds of entry and attribute caching. */
export function scoutfsTarget(scratch: string, timeout: number): Target {
  const image = join(scratch, 'scoutfs.img');
  const mnt = join(scratch, 'mnt-scoutfs');
  const env = { ...process.env, SCOUTFS_RUN_DIR: join(scratch, 'run') };
  const opts = ['-o', `attr_timeout=${timeout},entry_timeout=${timeout}`];
  let pid: number | null = null;
  const cli = async (...args: string[]) => {
    try {
      await promisify(execFile)(process.execPath, [BIN, ...args], { env });
    } catch (err) {
      const e = err as { stderr?: string; message: string };
      throw new Error(`scoutfs ${args.join(' ')}: ${(e.stderr || e.message).trim()}`);
    }
  };
  return {
    label: 'scoutfs',
    guard: { dir: mnt, scoutfsRunDir: env.SCOUTFS_RUN_DIR },
    about: `mkfs -Q 1, -o attr_timeout=${timeout},entry_timeout=${timeout} (its default with several log slots: 0); ${SCOUTFS_FUSE_OPTIONS}; read-ahead ${DEFAULT_READ_AHEAD_KB} KiB (its default)`,
    async start(note) {
      note('scoutfs: mkfs on a sparse 4 GiB image, mount');
      mkdirSync(mnt);
      await writeFile(image, '', { flag: 'wx' });
      await truncate(image, IMAGE_BYTES);
      await cli('mkfs', '-Q', '1', image);
      await cli('mount', ...opts, image, mnt);
      const entry = join(env.SCOUTFS_RUN_DIR, `${await entryId(image, 0)}.json`);
      pid = (JSON.parse(readFileSync(entry, 'utf8')) as { pid: number }).pid;
      return { dir: mnt, serverPid: pid };
    },
    async stop() {
      if (isMounted(mnt)) await cli('umount', mnt).catch(() => forceUnmount(mnt));
      if (isMounted(mnt)) forceUnmount(mnt);
      // after a forced unmount the server sees its mount gone and exits; one that cannot is hung
      if (pid !== null && !(await waitExit(pid, EXIT_MS))) process.kill(pid, 'SIGKILL');
    },
  };
}

/** bindfs of a local directory, with big_writes like scoutfs (without it, libfuse 2 writes 4 KiB). */
export function bindfsTarget(scratch: string): Target {
  const src = join(scratch, 'bindfs-src');
  const mnt = join(scratch, 'mnt-bindfs');
  let child: ChildProcess | null = null;
  return {
    label: 'bindfs',
    guard: { dir: mnt },
    about: `${bindfsVersion()}, -o big_writes, read-ahead ${DEFAULT_READ_AHEAD_KB} KiB as scoutfs sets it; libfuse defaults: entry/attr timeouts 1 s, single-threaded`,
    async start(note) {
      note('bindfs: mount a local directory');
      mkdirSync(src);
      mkdirSync(mnt);
      child = serverProcess(
        spawn('bindfs', ['-f', '-o', 'big_writes', src, mnt], {
          detached: true,
          stdio: ['ignore', 'ignore', 'inherit'],
        }),
      );
      // a bindfs that is not installed has no pid and never exits
      await waitMounted(mnt, MOUNT_MS, () => child?.pid !== undefined && child.exitCode === null);
      const failed = await setReadAhead(mnt, DEFAULT_READ_AHEAD_KB);
      if (failed) note(`bindfs: read_ahead_kb not set: ${failed}`);
      return { dir: mnt, serverPid: child.pid! };
    },
    async stop() {
      await stopServer(child, mnt, () => promisify(execFile)('fusermount', ['-u', mnt]));
    },
  };
}

/** mem-fuse.ts in a child process, mounted with scoutfs's options and these timeouts. */
export function memTarget(scratch: string, timeout: number): Target {
  const mnt = join(scratch, 'mnt-mem');
  let child: ChildProcess | null = null;
  return {
    label: 'in-memory',
    guard: { dir: mnt },
    about: `fuse-native, same options as scoutfs (entry/attr timeouts ${timeout} s, ${SCOUTFS_FUSE_OPTIONS}, read-ahead ${DEFAULT_READ_AHEAD_KB} KiB)`,
    async start(note) {
      note('in-memory: mount in a child process');
      mkdirSync(mnt);
      const input: MemFuseInput = {
        mountpoint: mnt,
        options: {
          fsname: `memfs,${SCOUTFS_FUSE_OPTIONS}`,
          subtype: 'memfs',
          allowOther: true,
          defaultPermissions: true,
          entryTimeout: String(timeout),
          attrTimeout: String(timeout),
          timeout: false,
        },
        readAheadKb: DEFAULT_READ_AHEAD_KB,
      };
      const script = fileURLToPath(new URL('./mem-fuse-child.ts', import.meta.url));
      const c = serverProcess(
        fork(script, [JSON.stringify(input)], {
          detached: true,
          stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
        }),
      );
      child = c;
      const patch = await new Promise<number | null>((resolve, reject) => {
        c.once('message', (m: { ready?: boolean; patch?: number | null; error?: string }) =>
          m.ready ? resolve(m.patch ?? null) : reject(new Error(`in-memory mount: ${m.error}`)),
        );
        c.once('exit', (code) => reject(new Error(`in-memory server exited (${code}) before mounting`)));
      });
      this.about += patch === null ? '; stock fuse-native' : `; fuse-native with scoutfs patch ${patch}`;
      return { dir: mnt, serverPid: c.pid! };
    },
    async stop() {
      await stopServer(child, mnt, async () => {
        if (child?.connected) child.send({ unmount: true });
      });
    },
  };
}

export function localTarget(scratch: string, fsType: string): Target {
  const dir = join(scratch, 'local');
  return {
    label: 'local',
    guard: null,
    about: `${fsType} under the scratch directory, no FUSE (the disk and the page cache)`,
    async start() {
      mkdirSync(dir);
      return { dir, serverPid: null };
    },
    async stop() {},
  };
}

/** Ask the server to go, wait for it, and make sure: unmount by force, kill. */
async function stopServer(
  child: ChildProcess | null,
  mnt: string,
  ask: () => Promise<unknown>,
): Promise<void> {
  if (isMounted(mnt)) await ask().catch(() => {});
  const pid = child?.pid;
  if (pid !== undefined && !(await waitExit(pid, EXIT_MS))) child!.kill('SIGKILL');
  if (isMounted(mnt)) forceUnmount(mnt);
}

/** A detached server the bench waits for by hand: not kept in its event loop, errors kept. */
function serverProcess(child: ChildProcess): ChildProcess {
  child.on('error', (err) => process.stderr.write(`  .. server ${child.spawnfile}: ${err.message}\n`));
  child.unref();
  return child;
}

function bindfsVersion(): string {
  const r = spawnSync('bindfs', ['--version'], { encoding: 'utf8' });
  const fuse = spawnSync('bindfs', ['--fuse-version'], { encoding: 'utf8' });
  const lib = /linked version\s*(\S+)/.exec(`${fuse.stdout}${fuse.stderr}`)?.[1];
  return r.error
    ? 'bindfs (not installed: apt-get install -y bindfs)'
    : `${r.stdout.trim()}${lib ? ` (libfuse ${lib})` : ''}`;
}
