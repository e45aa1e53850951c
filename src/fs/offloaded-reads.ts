/*
 * Reads handed off: file reads whose device bytes another thread reads after we have answered
 * (the FUSE binding's threads pread them straight into the kernel's reply, see
 * native/fuse-native.patch, patch 6).
 *
 * We look a read's extents up under the filesystem's shared lock, but its device read happens
 * after the lock is gone, so a truncate or unlink can unmap those blocks first. Unmapped blocks
 * are not handed out again until their transaction is durable (data-space.ts); that alone does
 * not make them safe, since a handed-off read could in principle still be waiting for its
 * thread while the commit finishes and another file's data lands in the blocks. So the data
 * space frees committed blocks only through `afterInFlight`: once every read handed off before
 * then is over, as the binding counts them (it counts every read it was handed, however it
 * ended). In practice the wait is never seen: a handed-off read is one pread on a thread that
 * is already running.
 */

import { FsError } from '../errors.js';

/** How often a wait looks at the binding's count. */
const POLL_MS = 1;

/** What the reader says of the reads handed to it. */
export interface OffloadedStatus {
  /** Reads that are over, however they ended. */
  done: number;
  /** Of those, the ones that failed (answered EIO). */
  failed: number;
  /** The errno of the last failure (0 for a device that ended early). */
  lastErrno: number;
}

export class OffloadedReads {
  private handed = 0;
  private failuresSeen = 0;
  private closed = false;
  /** Work waiting for the reads handed off before it, in order. */
  private readonly waiting: { upTo: number; run: () => void }[] = [];
  private timer: NodeJS.Timeout | null = null;

  /** `status` asks the reader; failures are told to `log` at the next hand-off after them. */
  constructor(
    private readonly status: () => OffloadedStatus,
    private readonly log: (line: string) => void = () => {},
  ) {}

  /** A read is being handed off (call before answering it); EIO once closed. */
  handOff(): void {
    if (this.closed) throw new FsError('EIO', 'the mount is closing: its device is no longer read');
    this.handed++;
    const s = this.status();
    if (s.failed > this.failuresSeen) {
      this.log(
        `device read failed (EIO answered): errno ${s.lastErrno || 'none (the device ended early)'}; ${s.failed} failed reads so far`,
      );
      this.failuresSeen = s.failed;
    }
  }

  private done(): number {
    return this.status().done;
  }

  /** Handed-off reads not over yet. */
  get inFlight(): number {
    return this.handed - this.done();
  }

  /** Run `fn` once every read handed off before now is over: at once when none is in flight. */
  afterInFlight(fn: () => void): void {
    if (this.waiting.length === 0 && this.done() >= this.handed) {
      fn();
      return;
    }
    this.waiting.push({ upTo: this.handed, run: fn });
    this.poll();
  }

  /**
   * No read is handed off any more (the device is about to close: a pread on its descriptor
   * could then read whatever file reused the number); resolves as `drain`.
   */
  close(timeoutMs: number): Promise<boolean> {
    this.closed = true;
    return this.drain(timeoutMs);
  }

  /** Resolves true once every read handed off so far is over, false after `timeoutMs`. */
  drain(timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.afterInFlight(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  private poll(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      const done = this.done();
      while (this.waiting.length > 0 && this.waiting[0]!.upTo <= done) this.waiting.shift()!.run();
      if (this.waiting.length > 0) this.poll();
    }, POLL_MS);
    // a wait never keeps the process alive (one whose reads never end is stuck on the device)
    this.timer.unref();
  }
}
