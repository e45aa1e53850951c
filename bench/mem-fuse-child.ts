/*
 * The process that serves the in-memory filesystem (mem-fuse.ts) for the mount benchmark, so
 * its JS thread is its own and the workload's blocking syscalls never wait on it.
 *
 * Takes { mountpoint, options } as JSON in its one argument, mounts, and tells the parent over
 * IPC ({ ready: true, patch } with the binding's SCOUTFS_PATCH, or { error }). It unmounts and exits when the parent says
 * { unmount: true }, on SIGTERM or SIGINT, and when the IPC channel closes (the parent died), so
 * a crashed bench does not leave the mount behind.
 */

import { createRequire } from 'node:module';
import { setReadAhead } from '../src/fuse/fuse-mount.js';
import { memFuseOperations } from './mem-fuse.js';

export interface MemFuseInput {
  mountpoint: string;
  /** fuse-native options, as FuseMount passes them for scoutfs. */
  options: Record<string, unknown>;
  /** The kernel read-ahead window scoutfs's mount sets, in KiB. */
  readAheadKb: number;
}

interface FuseInstance {
  mount(cb: (err: Error | null) => void): void;
  unmount(cb: (err: Error | null) => void): void;
}
interface FuseCtor {
  new (mnt: string, ops: object, opts: object): FuseInstance;
  /** Set by this project's patched build of the binding (native/fuse-native.patch). */
  SCOUTFS_PATCH?: number;
}

const require = createRequire(import.meta.url);
const send = (m: unknown) => new Promise<void>((resolve) => process.send!(m, () => resolve()));

const input = JSON.parse(process.argv[2] ?? '') as MemFuseInput;
const Fuse = require('fuse-native') as FuseCtor;
const fuse = new Fuse(input.mountpoint, memFuseOperations(), input.options);

let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  fuse.unmount(() => process.exit(0));
};

fuse.mount(async (err) => {
  if (err) {
    await send({ error: err.message });
    process.exit(1);
  }
  const failed = await setReadAhead(input.mountpoint, input.readAheadKb);
  if (failed) console.error(`in-memory mount: read_ahead_kb not set: ${failed}`);
  process.on('message', (m: { unmount?: boolean }) => m.unmount && stop());
  process.on('disconnect', stop);
  for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, stop);
  await send({ ready: true, patch: Fuse.SCOUTFS_PATCH ?? null });
});
