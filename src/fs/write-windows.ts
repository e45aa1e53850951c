/*
 * Write windows: a sequential writer's data goes to the device on the binding's FUSE threads
 * (patch 8 of native/fuse-native.patch), and the filesystem maps it afterwards.
 *
 * When a write through an open handle ends a file on a block boundary, the filesystem reserves
 * the blocks that follow it on the device (next-fit, so usually right after the file's last
 * extent) and hands the handle a window: file bytes [from, limit) at device offset `dev`. The
 * binding then answers each write of that handle that starts where the last one ended and stays
 * inside the window by a pwrite on the FUSE thread that received it, without a round trip into
 * JS, and moves the window's cursor. Anything else (another offset, past the limit, a failed
 * pwrite) reaches JS as before.
 *
 * What the binding wrote is not yet in the filesystem: file bytes [collected, cursor) are
 * written but neither mapped nor counted in the size. `collect` turns them into events, the
 * ones a JS write of the same bytes would append (ExtentMapped for the whole blocks written,
 * merged into the extent before them when they continue it, and DataWritten with the time of
 * the binding's last write), and the filesystem collects:
 *
 *   - before every read of its state (getattr, read, readdir, statfs, the control channel),
 *     keeping the windows open, so what a write answered is seen by everything after it;
 *   - before every change, closing every window first: a change may cut, move or delete what a
 *     window writes, and the next write of that handle then comes to JS and opens a new one;
 *   - on fsync and commit (so fsync'd data is mapped by the commit it waits for), on a timer
 *     while windows are open (so data is committed within the commit delay of a timer tick, as
 *     a JS write would be), and when the handle is released.
 *
 * Ordering on the device is the data path's usual one: the blocks are written before the events
 * that map them are appended, and the log writer's data barrier (fsync of the device) makes
 * them durable before those events are. A crash loses what was not collected and committed
 * (written but not fsync'd, as with any page cache); the reservation lives only in memory, so
 * the blocks of a window are free again after a crash.
 *
 * While a window is open the binding keeps none of its inode's attributes in its attribute
 * cache (their size moves without JS) and JS hands out no read windows for it (Fs.readPlan).
 */

import type { FsEvent, Timespec } from '../events/event.js';
import { BLOCK_SIZE } from '../format/layout.js';
import type { Change } from './change.js';
import type { DataSpace, Span } from './data-space.js';
import type { FileData } from './file-data.js';
import { type FsItems, MAX_EXTENT_BLOCKS } from './fs-items.js';

/** What the patched binding offers (fuse-native's index.js, patch 8). */
export interface WriteWindowBinding {
  writeWindow(fh: number, ino: number, from: number, limit: number, dev: number, fd: number): boolean;
  /** [cursor, seconds, nanoseconds of the last write, writes], or null: no window for fh. */
  writeCollect(fh: number, close: boolean): number[] | null;
  writeStats(): number;
}

/** The first window a handle gets, in blocks (256 KiB), and the largest one (16 MiB). */
export const FIRST_WINDOW_BLOCKS = 64;
export const MAX_WINDOW_BLOCKS = 4096;
/** Windows together hold at most this fraction of the free blocks, so ENOSPC comes on time. */
const WINDOW_SHARE_OF_FREE = 8;
/** How often open windows are collected, so their data commits as a JS write's would. */
export const COLLECT_EVERY_MS = 500;

interface Window {
  fh: number;
  ino: number;
  /** The file block the window starts at; its device blocks are span.start onward. */
  firstBlock: number;
  span: Span;
  /** File bytes up to here are in the filesystem (mapped, in the size). */
  collected: number;
  /** Blocks of the span mapped so far (from its start). */
  mapped: number;
}

export class WriteWindows {
  private readonly byHandle = new Map<number, Window>();
  /** The next window's size for each handle: doubling while its writer keeps on. */
  private readonly nextBlocks = new Map<number, number>();
  private stopped = false;

  constructor(
    private readonly binding: () => WriteWindowBinding | null,
    private readonly fd: number,
    /** No window reaches past this file offset (the filesystem's largest file). */
    private readonly maxFileBytes: number,
    private readonly items: FsItems,
    private readonly data: FileData,
    private readonly space: DataSpace,
  ) {}

  get open(): number {
    return this.byHandle.size;
  }

  /** Whether a window writes this inode (its size and extents move without JS). */
  writes(ino: number): boolean {
    for (const w of this.byHandle.values()) if (w.ino === ino) return true;
    return false;
  }

  /** Whether any window wrote something not yet collected. */
  advanced(): boolean {
    const b = this.binding();
    if (!b) return false;
    for (const w of this.byHandle.values()) {
      const r = b.writeCollect(w.fh, false);
      if (r && r[0]! > w.collected) return true;
    }
    return false;
  }

  /**
   * Add to `c` the events that map what the windows wrote since the last collect; with
   * `close`, the windows are gone after this (no write lands in them any more) and the blocks
   * they did not write are free again. The blocks mapped go into c.reserved, so a change that
   * fails gives them back. `which`: only the windows it picks.
   */
  async collect(
    c: Change,
    close: boolean,
    which?: (w: { fh: number; ino: number }) => boolean,
  ): Promise<void> {
    const b = this.binding();
    for (const w of [...this.byHandle.values()]) {
      if (which && !which(w)) continue;
      const r = b?.writeCollect(w.fh, close) ?? null;
      if (close) this.byHandle.delete(w.fh);
      const cursor = r ? r[0]! : w.collected;
      if (cursor > w.collected) await this.mapWritten(c, w, cursor, { sec: r![1]!, nsec: r![2]! });
      // the file goes on there, most likely: the next allocation starts there again
      if (close)
        this.space.unreserve([{ start: w.span.start + w.mapped, count: w.span.count - w.mapped }], true);
    }
  }

  /**
   * After a write through handle `fh` that left inode `ino` ending at `end`: reserve a window
   * for the handle's next writes when `end` is on a block boundary, returning what opens it
   * once the write's events are appended (or null). Its blocks are in c.reserved until then.
   */
  reserve(c: Change, fh: number, ino: number, end: number): (() => void) | null {
    if (this.stopped || end % BLOCK_SIZE !== 0 || this.byHandle.has(fh) || !this.binding()) return null;
    const want = Math.min(
      this.nextBlocks.get(fh) ?? FIRST_WINDOW_BLOCKS,
      Math.floor(this.space.freeBlocks / WINDOW_SHARE_OF_FREE) - this.held(),
      Math.floor((this.maxFileBytes - end) / BLOCK_SIZE),
    );
    if (want < FIRST_WINDOW_BLOCKS) return null;
    const spans = this.space.alloc(want, want, `write window of inode ${ino}`);
    const span = spans[0]!;
    // a free map too broken up for a useful window: no window
    if (span.count < FIRST_WINDOW_BLOCKS) {
      this.space.unreserve(spans, true);
      return null;
    }
    this.space.unreserve(spans.slice(1));
    // the write's change holds the span until it is appended (a failure gives it back); then
    // the window does
    c.reserved.push(span);
    return () => {
      const firstBlock = end / BLOCK_SIZE;
      const limit = end + span.count * BLOCK_SIZE;
      let ok = false;
      try {
        ok =
          !this.stopped &&
          (this.binding()?.writeWindow(fh, ino, end, limit, span.start * BLOCK_SIZE, this.fd) ?? false);
      } catch {
        // the binding refused it (it could not duplicate the descriptor): no window, and the
        // write it follows stands
      }
      if (!ok) {
        this.space.unreserve([span], true);
        return;
      }
      this.byHandle.set(fh, { fh, ino, firstBlock, span, collected: end, mapped: 0 });
      this.nextBlocks.set(fh, Math.min(MAX_WINDOW_BLOCKS, span.count * 2));
    };
  }

  /** Blocks reserved by windows and not written yet: free for anything else that needs them. */
  held(): number {
    let n = 0;
    for (const w of this.byHandle.values()) n += w.span.count - w.mapped;
    return n;
  }

  /** Whether handle `fh` has a window. */
  has(fh: number): boolean {
    return this.byHandle.has(fh);
  }

  /** The handle is closed: its window must have been collected and closed (collect). */
  released(fh: number): void {
    this.nextBlocks.delete(fh);
  }

  /**
   * No window answers anything from now on and none opens: the filesystem failed or is going
   * away. Whatever was not collected is dropped (a failed filesystem maps nothing more).
   */
  stop(): void {
    this.stopped = true;
    const b = this.binding();
    for (const w of this.byHandle.values()) b?.writeCollect(w.fh, true);
    this.byHandle.clear();
  }

  /** Writes the binding answered from windows. */
  stats(): number {
    return this.binding()?.writeStats() ?? 0;
  }

  private async mapWritten(c: Change, w: Window, cursor: number, time: Timespec): Promise<void> {
    const rec = await this.items.inode(w.ino);
    if (!rec) throw new RangeError(`write window of inode ${w.ino}, which is gone`);
    const upto = Math.min(w.span.count, Math.ceil(cursor / BLOCK_SIZE) - w.firstBlock);
    while (w.mapped < upto) {
      const count = Math.min(MAX_EXTENT_BLOCKS, upto - w.mapped);
      const x = { logical: w.firstBlock + w.mapped, physical: w.span.start + w.mapped, count };
      await this.data.mapNew(c, w.ino, x);
      c.reserved.push({ start: x.physical, count });
      w.mapped += count;
    }
    const e: FsEvent = {
      type: 'DataWritten',
      ino: w.ino,
      offset: w.collected,
      length: cursor - w.collected,
      size: Math.max(rec.size, cursor),
      time,
    };
    c.events.push(e);
    w.collected = cursor;
    this.data.written();
  }
}
