/*
 * Mount-point housekeeping for the mount benchmark: is a directory mounted, wait until it is,
 * and take a FUSE mount away however stuck it is.
 *
 * Everything here reads /proc/self/mountinfo or runs fusermount/umount; nothing stats inside a
 * mount unless it has to find a dead connection's number, so it is safe to call while the
 * serving process is hung. `forceUnmount` aborts the connection through fusectl first (which
 * fails every pending request, so nothing stays blocked on a dead server) and then detaches the
 * mount point lazily. It is the same recipe as test/helpers/mount.ts, which a bench may not
 * import (it pulls in the test runner).
 */

import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const CONNECTIONS = '/sys/fs/fuse/connections';

export function isMounted(dir: string): boolean {
  return mountLine(dir) !== undefined;
}

/** Poll mountinfo until `dir` is a mount point, or throw after `ms`. */
export async function waitMounted(dir: string, ms: number, alive: () => boolean = () => true): Promise<void> {
  const deadline = performance.now() + ms;
  while (!isMounted(dir)) {
    if (!alive()) throw new Error(`the server for ${dir} exited before mounting`);
    if (performance.now() > deadline) throw new Error(`${dir} was not mounted within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** `fusermount -u`, then, if the mount is still there, abort and detach it. Synchronous. */
export function unmountNow(dir: string): void {
  if (!isMounted(dir)) return;
  spawnSync('fusermount', ['-u', dir], { stdio: 'ignore', timeout: 10_000 });
  if (isMounted(dir)) forceUnmount(dir);
}

/** Abort a dead or hung FUSE connection and detach the mount point. */
export function forceUnmount(dir: string): void {
  const line = mountLine(dir);
  if (line === undefined) return;
  if (!existsSync(CONNECTIONS) || readdirSync(CONNECTIONS).length === 0) {
    spawnSync('mount', ['-t', 'fusectl', 'none', CONNECTIONS], { stdio: 'ignore' });
  }
  // field 3 of mountinfo is major:minor; a FUSE connection is named by the minor
  const minor = line.split(' ')[2]?.split(':')[1];
  const abort = minor ? join(CONNECTIONS, minor, 'abort') : '';
  if (abort && existsSync(abort)) writeFileSync(abort, '1');
  spawnSync('umount', ['-l', dir], { stdio: 'ignore' });
}

/** Wait for a process to exit (kill -0 fails), up to `ms`; true if it did. */
export async function waitExit(pid: number, ms: number): Promise<boolean> {
  const deadline = performance.now() + ms;
  while (alive(pid)) {
    if (performance.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function mountLine(dir: string): string | undefined {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .find((l) => unescapeOctal(l.split(' ')[4] ?? '') === dir);
}

function unescapeOctal(path: string): string {
  return path.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(Number.parseInt(oct, 8)));
}
