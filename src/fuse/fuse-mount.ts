/*
 * Mounting the filesystem through fuse-native, and its mount options.
 *
 * Options the binding does not know by name (big_writes and max_write for 128 KiB writes,
 * use_ino so stat shows our inode numbers) are appended to the fsname option, which the binding
 * passes through verbatim. Numeric options are passed as strings, because the binding drops a
 * numeric 0. Cache timeouts default to 0 on a volume several nodes can mount, so every lookup
 * and getattr sees other nodes' changes; a single-slot volume caches for a second.
 *
 * Our patched fuse-native (native/build-fuse-native.sh) marks itself with SCOUTFS_PATCH and gets
 * the operation table as it is; a build of another patch version refuses to mount. The
 * published binding gets the table through stock-binding.ts, losing nanosecond times, explicit
 * mtimes, the caller's identity, null paths (so libfuse's ".fuse_hidden" names stay visible
 * while an unlinked file is open) and names that are not UTF-8, and the mount says so in its
 * log.
 *
 * No per-operation timeout (fuse-native's default answers an operation that takes longer with
 * an error while the operation goes on): an operation that waits, for a checkpoint or a slow
 * device, completes and answers with its real result, as a kernel filesystem would, rather than
 * failing a call whose change may still land.
 *
 * No hard_remove: with it libfuse forgets an unlinked open file's name, and fstat and fchmod on
 * it fail ENOENT, since the kernel sends their GETATTR and SETATTR without the file handle.
 * Without it libfuse renames the file to a hidden name, which operations.ts turns into an
 * unlink and keeps out of the filesystem (hidden-names.ts).
 */

import { readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { FsError } from '../errors.js';
import type { Fs } from '../fs/fs.js';
import { OffloadedReads } from '../fs/offloaded-reads.js';
import type { WriteWindowBinding } from '../fs/write-windows.js';
import { type AttrBinding, NativeAttrs } from './native-attrs.js';
import { fuseOperations } from './operations.js';
import { DEFAULT_POLL_US, type PollBinding, RequestPoll } from './request-poll.js';
import { stockOperations } from './stock-binding.js';

const require = createRequire(import.meta.url);

export interface FuseMountOptions {
  device: string;
  allowOther: boolean;
  defaultPermissions: boolean;
  /** Seconds the kernel may cache names and attributes. */
  entryTimeout: number;
  attrTimeout: number;
  /** The kernel's read-ahead window on the mount, in KiB; unset leaves the kernel's (128). */
  readAheadKb?: number;
  /**
   * Let the binding answer getattr from its attribute cache (patch 7; default on). Off, every
   * getattr is a round trip into JS.
   */
  attrCache?: boolean;
  /**
   * Let the binding write sequential writers' data itself, through write windows (patch 8;
   * default on). Off, every write is a round trip into JS.
   */
  writeWindows?: boolean;
  /**
   * The longest window, in microseconds, JS polls for the next request after an answer instead
   * of sleeping (patch 9, request-poll.ts; default DEFAULT_POLL_US, 0: off).
   */
  pollUs?: number;
  debug?: boolean;
}

/**
 * The read-ahead window a mount gets unless told otherwise. The kernel gives a FUSE mount
 * 128 KiB, one request: a sequential reader then waits for each 128 KiB read to cross the
 * binding and the device in turn. With 1 MiB the kernel keeps several reads in flight (measured:
 * 580 → 740 MiB/s; 4 MiB was slower again).
 */
export const DEFAULT_READ_AHEAD_KB = 1024;

interface FuseInstance {
  mount(cb: (err: Error | null) => void): void;
  unmount(cb: (err: Error | null) => void): void;
  /** Patched binding only (patch 6): see native/fuse-native.patch. */
  deviceReads?(): number[];
  deviceReadEnter?(): number;
  deviceReadFlip?(): number;
  setReadGeneration?(generation: number): void;
}
type FuseBinding = FuseInstance & Partial<AttrBinding> & Partial<WriteWindowBinding> & Partial<PollBinding>;
interface FuseCtor {
  new (mnt: string, ops: object, opts: object): FuseInstance;
  /** Present only in our patched build: the version of native/fuse-native.patch. */
  SCOUTFS_PATCH?: number;
}

const MOUNT_TIMEOUT_MS = 20_000;
/** The version of native/fuse-native.patch whose calling convention operations.ts speaks. */
const FUSE_PATCH = 9;

export class FuseMount {
  private constructor(
    readonly mountpoint: string,
    private readonly fuse: FuseInstance,
    private readonly reads: OffloadedReads,
    private readonly attrs: NativeAttrs | null,
    private readonly poll: RequestPoll | null,
  ) {}

  /** [polls that spun, polls that caught a request, microseconds spent polling]. */
  pollStats(): [number, number, number] {
    return this.poll?.stats() ?? [0, 0, 0];
  }

  /**
   * [getattrs the binding answered from its attribute cache, paths it holds, inodes it holds,
   * getattrs it answered ENOENT from a complete directory].
   */
  attrStats(): [number, number, number, number] {
    return this.attrs?.stats() ?? [0, 0, 0, 0];
  }

  static async mount(
    fs: Fs,
    mountpoint: string,
    o: FuseMountOptions,
    log: (line: string) => void,
  ): Promise<FuseMount> {
    if (/[,\\]/.test(o.device))
      throw new FsError('EINVAL', `device path "${o.device}" may not contain "," or "\\"`);
    const Fuse = require('fuse-native') as FuseCtor;
    const patched = Fuse.SCOUTFS_PATCH !== undefined;
    if (patched && Fuse.SCOUTFS_PATCH !== FUSE_PATCH) {
      throw new FsError(
        'EINVAL',
        `fuse-native carries scoutfs patch ${Fuse.SCOUTFS_PATCH}, this build needs ${FUSE_PATCH}; run native/build-fuse-native.sh`,
      );
    }
    // the binding's threads read the device for reads (patch 6); `fuse` is set before any read
    let fuse: FuseBinding | null = null;
    const reads = new OffloadedReads(
      {
        status: () => {
          const [failed = 0, lastErrno = 0, even = 0, odd = 0] = fuse?.deviceReads?.() ?? [];
          return { failed, lastErrno, inFlight: [even, odd] };
        },
        enter: () => fuse!.deviceReadEnter!(),
        flip: () => fuse?.deviceReadFlip?.() ?? 0,
        setGeneration: (g) => fuse?.setReadGeneration?.(g),
      },
      log,
    );
    const attrs =
      o.attrCache === false || !patched ? undefined : new NativeAttrs(() => fuse as AttrBinding | null);
    const writeWindows =
      patched && o.writeWindows !== false && fs.handsOffWrites(() => fuse as WriteWindowBinding | null);
    const pollUs = o.pollUs ?? DEFAULT_POLL_US;
    const poll =
      patched && pollUs > 0
        ? new RequestPoll(
            () => fuse as PollBinding | null,
            () => fs.idle,
          )
        : undefined;
    const ops = patched
      ? fuseOperations(fs, log, { deviceReads: reads, attrs, writeHandles: writeWindows, poll })
      : stockOperations(fs, log, processCaller());
    if (!patched) {
      log('fuse-native is the stock build: ms times, no explicit mtime, files owned by the mount process,');
      log('unlinked open files show as .fuse_hidden names, names must be UTF-8;');
      log('run native/build-fuse-native.sh to patch it');
    }
    fuse = new Fuse(mountpoint, ops, {
      fsname: `${o.device},big_writes,max_write=131072,use_ino`,
      subtype: 'scoutfs',
      allowOther: o.allowOther,
      defaultPermissions: o.defaultPermissions,
      entryTimeout: String(o.entryTimeout),
      attrTimeout: String(o.attrTimeout),
      debug: o.debug ?? false,
      timeout: false,
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new FsError('EIO', `mounting ${mountpoint} did not finish in ${MOUNT_TIMEOUT_MS} ms`)),
        MOUNT_TIMEOUT_MS,
      );
      fuse!.mount((err) => {
        clearTimeout(timer);
        if (err) reject(new FsError('EINVAL', `cannot mount on ${mountpoint}: ${err.message}`));
        else resolve();
      });
    });
    // the binding starts at generation 0; whatever changed since the table was made, agree now
    reads.changed();
    // a filesystem that failed in the meantime answers nothing from a copy
    if (!fs.failure) attrs?.on();
    if (poll) {
      poll.on(pollUs);
      fs.onSettled = () => poll.settled();
    }
    if (o.readAheadKb !== undefined) {
      const failed = await setReadAhead(mountpoint, o.readAheadKb);
      if (failed) log(`read_ahead_kb=${o.readAheadKb} not set: ${failed}`);
    }
    return new FuseMount(mountpoint, fuse, reads, attrs ?? null, poll ?? null);
  }

  /** Poll for requests no more (request-poll.ts): the mount is going away. */
  stopPolling(): void {
    this.poll?.off();
  }

  unmount(): Promise<void> {
    this.stopPolling();
    return new Promise((resolve, reject) => {
      this.fuse.unmount((err) => (err ? reject(err) : resolve()));
    });
  }

  /**
   * Before the device closes: hand no more reads to the binding's threads (a read after this
   * fails EIO), and resolve true once they have finished every read handed to them, false
   * after `timeoutMs`. A descriptor closed under a pread could be reused by another file first.
   */
  stopReads(timeoutMs: number): Promise<boolean> {
    return this.reads.close(timeoutMs);
  }
}

/**
 * Set the read-ahead window of a mount's backing device info (/sys/class/bdi/MAJ:MIN), found
 * through /proc/self/mountinfo, never by a stat of the mount point (this process may serve it).
 * The kernel clamps the window to what the INIT reply offered when it processes that reply,
 * which may come after the mount callback: the value is read back and written again until it
 * holds. Gives why it failed (no sysfs, not root), or null; a failure leaves the kernel's window.
 */
export async function setReadAhead(mountpoint: string, kb: number): Promise<string | null> {
  try {
    const dev = (await mountsAt(mountpoint)).findLast((m) => /^fuse(\.|$)/.test(m.fstype))?.dev;
    if (!dev || !/^\d+:\d+$/.test(dev)) throw new Error('the mount is not in /proc/self/mountinfo');
    const file = `/sys/class/bdi/${dev}/read_ahead_kb`;
    for (let attempt = 0; attempt < 20; attempt++) {
      await writeFile(file, `${kb}\n`);
      await new Promise((r) => setTimeout(r, 50));
      if (Number((await readFile(file, 'utf8')).trim()) === kb) return null;
    }
    throw new Error(`the kernel keeps setting ${file} back`);
  } catch (err) {
    return (err as Error).message;
  }
}

/**
 * The mounts at `mountpoint` from /proc/self/mountinfo, oldest first (the last one is on top):
 * their device (MAJ:MIN) and filesystem type.
 */
export async function mountsAt(mountpoint: string): Promise<{ dev: string; fstype: string }[]> {
  const out: { dev: string; fstype: string }[] = [];
  for (const line of (await readFile('/proc/self/mountinfo', 'utf8')).split('\n')) {
    const f = line.split(' ');
    const dash = f.indexOf('-', 6);
    if (dash > 0 && unescapeMountinfo(f[4]!) === mountpoint)
      out.push({ dev: f[2]!, fstype: f[dash + 1] ?? '' });
  }
  return out;
}

/** mountinfo writes space, tab, newline and backslash in paths as octal escapes. */
function unescapeMountinfo(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)));
}

function processCaller() {
  return { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
}
