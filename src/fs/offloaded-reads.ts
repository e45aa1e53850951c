/*
 * Reads handed off: file reads whose device bytes another thread reads after we have answered
 * (the FUSE binding's threads pread them straight into the kernel's reply, see
 * native/fuse-native.patch, patch 6), and reads that thread answers alone from a window of a
 * file's extents that we gave it.
 *
 * We look a read's extents up under the filesystem's shared lock, but its device read happens
 * after the lock is gone, and a window is used long after: a write, truncate or unlink can
 * change what they describe first. Two rules keep that safe.
 *
 *   - Windows carry the generation they were true in, and the filesystem moves to a new
 *     generation (`changed`) before every change it makes, under its exclusive lock and before
 *     the change is answered; the reader answers only from windows of the current generation.
 *     So a read that starts after a change was answered never sees the state before it.
 *   - Unmapped blocks are not handed out again until their transaction is durable
 *     (data-space.ts), and, through `afterInFlight`, not before every read that could still
 *     be on them is over. The reader counts its device reads in flight as in a read-copy-update
 *     grace period, by the parity of the epoch they entered: we enter for a read we hand off
 *     while we still hold the lock its extents were looked up under, and a window read enters
 *     before it looks at the generation. To wait, we start the next epoch and wait for the old
 *     parity's count to be zero: a read that entered the new epoch started after every change
 *     made before, so it sees the new generation (all sequentially consistent). In practice
 *     the wait is never seen: a read in flight is one pread on a thread already running.
 */

import { FsError } from '../errors.js';

/** How often a wait looks at the reader's counts. */
const POLL_MS = 1;

/** What the reader says of its device reads. */
export interface OffloadedStatus {
  /** Device reads that failed (answered EIO). */
  failed: number;
  /** The errno of the last failure (0 for a device that ended early). */
  lastErrno: number;
  /** Reads in flight that entered an even epoch, and an odd one. */
  inFlight: readonly [number, number];
}

/** The reader (the binding): its counts, its epochs, the generation it answers windows of. */
export interface OffloadReader {
  status(): OffloadedStatus;
  /** A read about to be handed off enters the current epoch: its parity. */
  enter(): number;
  /** Start the next epoch: the parity of the one it ends. */
  flip(): number;
  setGeneration(generation: number): void;
}

export class OffloadedReads {
  private gen = 0;
  private failuresSeen = 0;
  private closed = false;
  /** Work waiting for the reads in flight before it, in order. */
  private waiting: (() => void)[] = [];
  /** The grace period running: the parity it waits on, and the work it runs after. */
  private grace: { parity: number; after: (() => void)[] } | null = null;

  /** Failures are told to `log` at the next hand-off after them. */
  constructor(
    private readonly reader: OffloadReader,
    private readonly log: (line: string) => void = () => {},
  ) {}

  /** The generation windows made now are true in. */
  get generation(): number {
    return this.gen;
  }

  /** The filesystem is about to change something: no window made before is current. */
  changed(): void {
    this.gen += 1;
    this.reader.setGeneration(this.gen);
  }

  /**
   * A read is being handed off: call under the lock its extents were looked up under, and
   * answer it with the parity this returns. EIO once closed.
   */
  handOff(): number {
    if (this.closed) throw new FsError('EIO', 'the mount is closing: its device is no longer read');
    const s = this.reader.status();
    if (s.failed > this.failuresSeen) {
      this.log(
        `device read failed (EIO answered): errno ${s.lastErrno || 'none (the device ended early)'}; ${s.failed} failed reads so far`,
      );
      this.failuresSeen = s.failed;
    }
    return this.reader.enter();
  }

  /** Device reads in flight. */
  get inFlight(): number {
    const [even, odd] = this.reader.status().inFlight;
    return even + odd;
  }

  /** Run `fn` once every read in flight now is over: at once when none is. */
  afterInFlight(fn: () => void): void {
    if (this.grace === null && this.waiting.length === 0 && this.inFlight === 0) {
      fn();
      return;
    }
    this.waiting.push(fn);
    this.startGrace();
  }

  /**
   * No read is handed off, nor answered from a window, any more (the device is about to close:
   * a pread on its descriptor could then read whatever file reused the number); resolves as
   * `drain`.
   */
  close(timeoutMs: number): Promise<boolean> {
    this.closed = true;
    this.changed();
    return this.drain(timeoutMs);
  }

  /** Resolves true once every read in flight now is over, false after `timeoutMs`. */
  drain(timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.afterInFlight(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  private startGrace(): void {
    if (this.grace !== null || this.waiting.length === 0) return;
    this.grace = { parity: this.reader.flip(), after: this.waiting };
    this.waiting = [];
    this.poll();
  }

  private poll(): void {
    const timer = setTimeout(() => {
      const g = this.grace!;
      if (this.reader.status().inFlight[g.parity]! > 0) {
        this.poll();
        return;
      }
      this.grace = null;
      for (const fn of g.after) fn();
      this.startGrace();
    }, POLL_MS);
    // a wait never keeps the process alive (one whose reads never end is stuck on the device)
    timer.unref();
  }
}
