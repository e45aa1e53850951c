/*
 * Helpers for the POSIX suites that drive a real mount with ordinary syscalls and tools.
 *
 * `suiteMount` gives a whole uvu suite one mount: made in `before`, torn down in `after`, which
 * uvu runs in a finally block, so a failed test never leaves the mount behind. The mount itself
 * is a `withMount` that stays open until the suite is done, so its cleanup (unmount, or abort
 * through fusectl) is the helper's own; if the test process exits some other way, an exit hook
 * aborts the mount.
 *
 * Errors are compared by code: `errnoOf` runs a syscall here, `errnoAs` runs one in a node
 * process with another uid and gid (through setpriv), so permission checks are the kernel's and
 * the filesystem's, never root's.
 */

import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, closeSync, fsyncSync, mkdirSync, openSync, statfsSync } from 'node:fs';
import { join } from 'node:path';
import type { Test } from 'uvu';
import { buildCli } from './cli.js';
import { forceUnmount, isMounted, type MountOptions, type TestMount, withMount } from './mount.js';

/** The unprivileged user and group the permission tests run as. */
export const NOBODY = { uid: 65534, gid: 65534 };

export interface User {
  uid: number;
  gid: number;
}

/**
 * One mount for the whole suite: built and mounted before the first test, unmounted after the
 * last (also when a test failed). Returns the way to reach it from a test.
 */
export function suiteMount(suite: Test, o: MountOptions = {}): () => TestMount {
  let mount: TestMount | undefined;
  let release = () => {};
  let served: Promise<void> | undefined;
  const onExit = () => {
    if (mount && isMounted(mount.dir)) forceUnmount(mount.dir);
  };
  suite.before(async () => {
    try {
      await mountUp();
    } catch (err) {
      // uvu drops an error thrown by a before hook (its runner returns from a finally block)
      console.error(`suite mount failed: ${err instanceof Error ? err.stack : String(err)}`);
      throw err;
    }
  });
  const mountUp = async () => {
    buildCli();
    process.once('exit', onExit);
    let ready = (_m: TestMount) => {};
    const up = new Promise<TestMount>((resolve) => {
      ready = resolve;
    });
    served = withMount((m) => {
      ready(m);
      return new Promise<void>((resolve) => {
        release = resolve;
      });
    }, o);
    const ended = served.then(() => {
      throw new Error('the suite mount ended before the suite started');
    });
    ended.catch(() => {}); // heard by the race only; a normal end later is no error
    mount = await Promise.race([up, ended]);
  };
  suite.after(async () => {
    release();
    await served;
    process.removeListener('exit', onExit);
  });
  return () => {
    if (!mount) throw new Error('no suite mount (did before fail?)');
    return mount;
  };
}

/** The error code `fn` throws, or 'no error'. */
export function errnoOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return (err as NodeJS.ErrnoException).code ?? String(err);
  }
  return 'no error';
}

/**
 * Run `statement` as `user` in a fresh node process, with `fs` (node:fs) in scope and `args`
 * as the array `a`; the error code it threw, or 'no error'.
 */
export function errnoAs(user: User, statement: string, ...args: string[]): string {
  const program = [
    "import * as fs from 'node:fs';",
    'const a = process.argv.slice(1);',
    'try {',
    statement,
    "  console.log('no error');",
    '} catch (err) {',
    '  console.log(err.code ?? String(err));',
    '}',
  ].join('\n');
  const r = runAs(user, process.execPath, ['--input-type=module', '-e', program, ...args]);
  if (r.status !== 0) throw new Error(`node as uid ${user.uid} failed: ${r.stderr}`);
  return r.stdout.trim();
}

/** Run `cmd ARGS...` as `user` (no supplementary groups); never throws on a non-zero exit. */
export function runAs(
  user: User,
  cmd: string,
  args: string[],
): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(
    'setpriv',
    [`--reuid=${user.uid}`, `--regid=${user.gid}`, '--clear-groups', cmd, ...args],
    { encoding: 'utf8', timeout: 30_000 },
  );
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** `cmd ARGS...` as root; its stdout. Throws with the tool's stderr on a non-zero exit. */
export function sh(cmd: string, ...args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: 'pipe', timeout: 30_000 });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')}: ${e.stderr || e.message}`);
  }
}

/** Free blocks of the filesystem holding `dir`. */
export function freeBlocks(dir: string): number {
  return statfsSync(dir).bfree;
}

/** Commit the mount's pending changes: fsync of its root directory (quicker than scoutfs sync). */
export function commit(m: TestMount): void {
  const fd = openSync(m.dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Commit until the free block count holds still across two commits (earlier frees and last
 * closes have landed); that count.
 */
export async function settledFreeBlocks(m: TestMount): Promise<number> {
  let last = -1;
  for (let i = 0; i < 100; i++) {
    commit(m);
    const now = freeBlocks(m.dir);
    if (now === last) return now;
    last = now;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('free blocks never settled');
}

/**
 * Wait until `cond` holds, committing the mount between looks (freed blocks come back when
 * the transaction that freed them is durable; a last close reaches the filesystem after
 * close(2) returns). Throws with `what` after `timeoutMs`.
 */
export async function eventually(
  m: TestMount,
  cond: () => boolean,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    commit(m);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Fresh directories in a suite mount, one per call (0755, root's), with the scratch directory
 * around the mount point opened up so `nobody` can reach the mount.
 */
export function freshDirs(suite: Test, mnt: () => TestMount): () => string {
  let n = 0;
  suite.before(() => {
    // the scratch directory is 0700 (mkdtemp); nobody must reach the mount point inside it
    chmodSync(mnt().scratch, 0o755);
  });
  return () => {
    const d = join(mnt().dir, `t${n++}`);
    mkdirSync(d);
    return d;
  };
}
