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
 * the name taken connects to it and is told who holds it.
 *
 * Limits, all of them refusals, never a second writer: abstract names are per network
 * namespace, so mounts in different namespaces (like different hosts) do not see each other's
 * claims, which is the cluster's fencing to solve; abstract names carry no permissions, so a
 * local user who knows a volume's fsid can take its name first and make its mounts refuse
 * (with whatever holder they claim to be); and a copy of a volume made with cp or dd keeps its
 * fsid, so it is taken for the same volume while the original is mounted.
 */

import { connect, createServer, type Socket } from 'node:net';
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

/** Claimants answered at once; more connections than this are dropped by the server. */
const MAX_ANSWERING = 4;

/** Claim the volume for this process, or EBUSY naming the mount that holds it. */
export async function claimVolume(fsid: Buffer, me: ClaimHolder): Promise<VolumeClaim> {
  // a holder that lets go between our bind and our question leaves the name free: try again
  for (let attempt = 0; ; attempt++) {
    const claim = await tryClaim(fsid, me);
    if (claim) return claim;
    const holder = await claimHolder(fsid);
    if (holder || attempt === 1) throw busy(fsid, holder);
  }
}

async function tryClaim(fsid: Buffer, me: ClaimHolder): Promise<VolumeClaim | null> {
  const open = new Set<Socket>();
  const server = createServer((s) => {
    // whoever connects is told who holds the volume, and gets a second to read it
    open.add(s);
    s.on('close', () => open.delete(s));
    s.on('error', () => {});
    s.setTimeout(1000, () => s.destroy());
    s.end(JSON.stringify(me));
  });
  server.maxConnections = MAX_ANSWERING;
  server.unref();
  const bound = await new Promise<boolean>((resolve, reject) => {
    const refused = (err: NodeJS.ErrnoException) =>
      err.code === 'EADDRINUSE' ? resolve(false) : reject(err);
    server.once('error', refused);
    server.listen(nameOf(fsid), () => {
      server.off('error', refused);
      resolve(true);
    });
  });
  if (!bound) return null;
  // a failed accept must not take the mount down: the claim holds as long as the socket does
  server.on('error', () => {});
  return {
    release: async () => {
      // the name is freed at once; connections still open are cut, never waited for
      server.close();
      for (const s of open) s.destroy();
    },
  };
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
