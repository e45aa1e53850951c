/*
 * Where the mounts of this host are recorded: one file per mounted (device, slot) in the run
 * directory (/run/scoutfs, or $SCOUTFS_RUN_DIR), naming the serving process, the mount point
 * and the control socket.
 *
 * It answers two questions: is this device's slot already mounted by a live process (refuse a
 * second mount), and which control socket serves a given path (the CLI's way in). An entry whose
 * process is gone is stale and ignored.
 */

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface MountEntry {
  pid: number;
  device: string;
  slot: number;
  mountpoint: string;
  socket: string;
  log: string;
}

export const runDir = () => process.env.SCOUTFS_RUN_DIR ?? '/run/scoutfs';

export async function entryId(device: string, slot: number): Promise<string> {
  const real = await realpath(device);
  return `${createHash('sha256').update(real).digest('hex').slice(0, 16)}-slot${slot}`;
}

export function pathsFor(id: string): { file: string; socket: string; log: string } {
  const dir = runDir();
  return { file: join(dir, `${id}.json`), socket: join(dir, `${id}.sock`), log: join(dir, `${id}.log`) };
}

/** A process that exists and is not a zombie (a killed mount waiting to be reaped is dead). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

export async function liveEntry(id: string): Promise<MountEntry | null> {
  try {
    const e = JSON.parse(await readFile(pathsFor(id).file, 'utf8')) as MountEntry;
    return isAlive(e.pid) && e.pid !== process.pid ? e : null;
  } catch {
    return null;
  }
}

export async function register(id: string, e: MountEntry): Promise<void> {
  await mkdir(runDir(), { recursive: true, mode: 0o755 });
  await writeFile(pathsFor(id).file, `${JSON.stringify(e)}\n`);
}

export async function unregister(id: string): Promise<void> {
  await rm(pathsFor(id).file, { force: true });
  await rm(pathsFor(id).socket, { force: true });
}

/** Every live mount of this host. */
export async function liveMounts(): Promise<MountEntry[]> {
  let names: string[];
  try {
    names = await readdir(runDir());
  } catch {
    return [];
  }
  const out: MountEntry[] = [];
  for (const n of names.filter((f) => f.endsWith('.json'))) {
    const e = await liveEntry(n.slice(0, -5));
    if (e) out.push(e);
  }
  return out;
}

/** The live mount whose mount point holds `path` (the deepest, if they nest). */
export async function mountOf(path: string): Promise<MountEntry | null> {
  const real = await realpath(path);
  let best: MountEntry | null = null;
  for (const e of await liveMounts()) {
    const inside =
      real === e.mountpoint ||
      real.startsWith(e.mountpoint.endsWith('/') ? e.mountpoint : `${e.mountpoint}/`);
    if (inside && (!best || e.mountpoint.length > best.mountpoint.length)) best = e;
  }
  return best;
}
