/*
 * One mount per volume on this host, whatever path reaches it and whatever slot it asks for.
 *
 * Until the cluster exists (quorum, server, locks), two mounts of one volume would be two
 * writers that know nothing of each other: each folds only its own appends, reserves the same
 * inode numbers and allocates the same data blocks. The registry's check (registry.ts) refuses a
 * second mount of the same device path and slot; this refuses a second mount of the same
 * volume, told by its fsid: through another slot, a symlink, a hard link or a loop device over
 * the same file.
 *
 * The claim is a listening Unix socket in Linux's abstract namespace, named after the fsid.
 * Binding it is atomic and exclusive, and the kernel releases it when the process that holds
 * it exits, however it exits, so there is never a stale claim to clean up. A process that finds
 * the name taken connects to it and is told who holds it. (Abstract names are per network
 * namespace: mounts in different namespaces, like different hosts, do not see each other's
 * claims; that is the cluster's fencing to solve.)
 */

import { connect, createServer, type Server } from 'node:net';
import { FsError } from '../errors.js';

/** What the holder of a claim tells whoever finds it taken. */
export interface ClaimHolder {
  pid: number;
  device: string;
  slot: number;
  mountpoint: string;
}

export interface VolumeClaim {
  release(): Promise<void>;
}

const nameOf = (fsid: Buffer) => `\0scoutfs-volume-${fsid.toString('hex')}`;

/** Claim the volume for this process, or EBUSY naming the mount that holds it. */
export async function claimVolume(fsid: Buffer, me: ClaimHolder): Promise<VolumeClaim> {
  const server = createServer((s) => {
    s.on('error', () => {});
    s.end(JSON.stringify(me));
  });
  server.unref();
  const taken = await new Promise<boolean>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      err.code === 'EADDRINUSE' ? resolve(true) : reject(err),
    );
    server.listen(nameOf(fsid), () => resolve(false));
  });
  if (taken) throw busy(fsid, await claimHolder(fsid));
  return { release: () => close(server) };
}

/**
 * The mount that holds the volume, or null when none does (or it does not answer within
 * `ms`). Only a hint for an early, clear refusal: `claimVolume` is what decides.
 */
export function claimHolder(fsid: Buffer, ms = 2000): Promise<ClaimHolder | null> {
  return new Promise((resolve) => {
    let text = '';
    const s = connect(nameOf(fsid));
    const timer = setTimeout(() => done(null), ms);
    const done = (h: ClaimHolder | null) => {
      clearTimeout(timer);
      s.destroy();
      resolve(h);
    };
    s.setEncoding('utf8');
    s.on('data', (d: string) => {
      text += d;
    });
    s.on('end', () => {
      try {
        done(JSON.parse(text) as ClaimHolder);
      } catch {
        done(null);
      }
    });
    s.on('error', () => done(null));
  });
}

export function busy(fsid: Buffer, h: ClaimHolder | null): FsError {
  const who = h
    ? `${h.device} slot ${h.slot} at ${h.mountpoint} (process ${h.pid})`
    : 'a process that did not say where';
  return new FsError(
    'EBUSY',
    `volume ${fsid.toString('hex')} is already mounted by ${who}; until the cluster exists, one mount at a time may write a volume`,
  );
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}
