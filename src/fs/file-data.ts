/*
 * File contents: extents on the device, read and written through the extent items.
 *
 * A write maps new blocks for the holes it covers (allocated from the data space, written
 * whole with zeros around the data, so a hole never reads as old contents) and writes mapped
 * blocks in place; the device writes finish before the events that map the blocks are
 * appended, and the log writer's data barrier makes them durable before those events are.
 * Bytes past the end of a file inside its last block may hold old data (a shrinking truncate
 * leaves them, so an uncommitted truncate cannot damage committed data); whatever grows the
 * file zeroes them first, so growing a file exposes zeros. Extents are at most MAX_EXTENT_BLOCKS long; a write that
 * continues the previous extent on the device extends it instead of adding one.
 *
 * Unmapping a large file takes several appends (`step`): a crash between them leaves extents
 * past the end of the file, which the next write or truncate past the end unmaps first.
 */

import { type BlockDevice, checkRange } from '../device/device.js';
import type { LogWriter } from '../events/log-writer.js';
import { BLOCK_SIZE } from '../format/layout.js';
import type { Change, StepFn } from './change.js';
import type { DataSpace, Span } from './data-space.js';
import { type Extent, type FsItems, MAX_EXTENT_BLOCKS } from './fs-items.js';

/** Events per append when a large file's extents are unmapped in several steps. */
export const UNMAP_BATCH = 2048;
/** File blocks whose extents one read looks up at once, for the reads after it (16 MiB). */
const READ_WINDOW_BLOCKS = 4096;
/**
 * How far past the window's end a read may land and still move the window on (with lookahead):
 * the kernel's read-ahead (1 MiB by default) keeps that many bytes of reads in flight at once.
 */
const ONWARD_BLOCKS = 256;
/** Files whose read windows are kept. */
const READ_WINDOWS = 64;

/** The extents of file blocks [first, last], as a read looked them up. */
interface ReadWindow {
  first: number;
  last: number;
  extents: Extent[];
}

export class FileData {
  /** Data written to the device since the last data barrier. */
  private dirty = false;
  /**
   * Extents reads looked up, by inode, oldest first: a sequential reader looks its extents up
   * once per window instead of once per read. Every event that maps or unmaps an extent goes
   * through Fs.append, which drops the file's window (`forget`) under the exclusive lock, so
   * no read (they share the lock) can see a window older than the index.
   */
  private readonly windows = new Map<number, ReadWindow>();

  constructor(
    private readonly items: FsItems,
    private readonly dev: BlockDevice,
    private readonly space: DataSpace,
    private readonly writer: LogWriter,
  ) {}

  /** The data barrier: make written data durable before the records that map it. */
  async barrier(): Promise<void> {
    if (!this.dirty) return;
    this.dirty = false;
    await this.dev.sync();
  }

  /**
   * Bytes [offset, end) of a file whose size is `size`; holes read as zeros. With `into`, the
   * bytes land there (FUSE's own reply buffer) and the returned buffer is a view of it.
   */
  async read(ino: number, size: number, offset: number, length: number, into?: Buffer): Promise<Buffer> {
    const end = Math.min(size, offset + length);
    if (end <= offset) return Buffer.alloc(0);
    const out = into ? into.subarray(0, end - offset) : Buffer.allocUnsafe(end - offset);
    await this.fill(out, await this.pieces(ino, offset, end, out));
    return out;
  }

  /**
   * A read whose device bytes someone else reads: the byte count, with holes (and the bytes
   * after the last extent) zeroed in `into`, and the device pieces as (offset in `into`, device
   * offset, length) triples (maybe none), or null when there are more than `maxPieces`, in
   * which case this has read them into `into` itself. The caller must read the pieces before
   * the blocks can be reused (see OffloadedReads). With the pieces comes the read's window
   * (`window`), for the reader to answer the next reads inside it itself.
   */
  async plan(
    ino: number,
    size: number,
    offset: number,
    length: number,
    into: Buffer,
    maxPieces: number,
    generation: number,
  ): Promise<{ bytes: number; pieces: Float64Array | null; window: Float64Array | null }> {
    const end = Math.min(size, offset + length);
    if (end <= offset) return { bytes: 0, pieces: null, window: null };
    const out = into.subarray(0, end - offset);
    const pieces = await this.pieces(ino, offset, end, out);
    if (pieces.length > 3 * maxPieces) {
      await this.fill(out, pieces);
      return { bytes: out.length, pieces: null, window: null };
    }
    return {
      bytes: out.length,
      pieces: Float64Array.from(pieces),
      window: this.window(ino, size, generation, maxPieces),
    };
  }

  /**
   * The file's read window as the reader keeps it: generation, the file bytes [from, to) it
   * covers, the file's size, then its extents inside that range as (file offset, device
   * offset, length) triples in file order; null with more than `maxExtents` of them.
   */
  private window(ino: number, size: number, generation: number, maxExtents: number): Float64Array | null {
    const w = this.windows.get(ino);
    if (!w) return null;
    const from = w.first * BLOCK_SIZE;
    const to = (w.last + 1) * BLOCK_SIZE;
    const out = [generation, from, to, size];
    for (const [a, b, at] of this.clipped(w.extents, from, to)) out.push(a, at, b - a);
    return out.length > 4 + 3 * maxExtents ? null : Float64Array.from(out);
  }

  /**
   * The device pieces of file bytes [offset, end) as (offset in `out`, device offset, length)
   * triples, in order; the holes between them (and after the last) are zeroed in `out`.
   */
  private async pieces(ino: number, offset: number, end: number, out: Buffer): Promise<number[]> {
    const first = Math.floor(offset / BLOCK_SIZE);
    const last = Math.floor((end - 1) / BLOCK_SIZE);
    const pieces: number[] = [];
    let filled = offset;
    for (const [from, to, at] of this.clipped(await this.readExtents(ino, first, last), offset, end)) {
      if (from > filled) out.fill(0, filled - offset, from - offset);
      pieces.push(from - offset, at, to - from);
      filled = to;
    }
    if (filled < end) out.fill(0, filled - offset);
    return pieces;
  }

  /**
   * The parts of `extents` (in file order) inside file bytes [from, to), as [start, end, device
   * offset of start], each checked to lie inside the device.
   */
  private *clipped(
    extents: readonly Extent[],
    from: number,
    to: number,
  ): Generator<[number, number, number]> {
    for (const x of extents) {
      const a = Math.max(from, x.logical * BLOCK_SIZE);
      const b = Math.min(to, (x.logical + x.count) * BLOCK_SIZE);
      if (b <= a) continue;
      const at = (x.physical - x.logical) * BLOCK_SIZE + a;
      checkRange(this.dev, at, b - a);
      yield [a, b, at];
    }
  }

  /** Read the device pieces (see `pieces`) into `out`. */
  private async fill(out: Buffer, pieces: readonly number[]): Promise<void> {
    const reads: Promise<unknown>[] = [];
    for (let i = 0; i < pieces.length; i += 3) {
      const view = out.subarray(pieces[i]!, pieces[i]! + pieces[i + 2]!);
      reads.push(
        this.dev.read(pieces[i + 1]!, view.length, view).then((b) => {
          // a device that gives its own buffer instead of filling ours: copy, never leave it unset
          if (b.buffer !== view.buffer || b.byteOffset !== view.byteOffset) b.copy(view);
        }),
      );
    }
    // every read settles before the answer, failed or not: `out` may be FUSE's reply buffer,
    // which libfuse frees once we answer, and a read still running would write into freed memory
    const done = await Promise.allSettled(reads);
    for (const d of done) if (d.status === 'rejected') throw d.reason;
  }

  /** The file's extents changed (or it is gone): its read window is stale. */
  forget(ino: number): void {
    this.windows.delete(ino);
  }

  /**
   * Extents that overlap file blocks [first, last] (and maybe others), through the window. Only
   * a read that starts a file or lands within ONWARD_BLOCKS of the last window's end looks
   * ahead: a random reader of a fragmented file would otherwise decode up to a window's worth
   * of extents per read.
   */
  private async readExtents(ino: number, first: number, last: number): Promise<Extent[]> {
    const w = this.windows.get(ino);
    if (w && first >= w.first && last <= w.last) return w.extents;
    // read-ahead's reads arrive out of order: one that starts a little before the window keeps
    // it (the binding answers the reads after it from that window), one that runs past its end
    // or lands a little past it moves it on from where it ended, so the reads between are inside
    if (w && first > 0 && first < w.first && w.first - first <= ONWARD_BLOCKS) {
      return this.items.extents(ino, first, last);
    }
    const onward = w !== undefined && first >= w.first && first <= w.last + ONWARD_BLOCKS;
    const from = w !== undefined && onward ? Math.min(first, w.last + 1) : first;
    const until = first === 0 || onward ? Math.max(last, from + READ_WINDOW_BLOCKS - 1) : last;
    const extents = await this.items.extents(ino, from, until);
    this.windows.delete(ino);
    this.windows.set(ino, { first: from, last: until, extents });
    if (this.windows.size > READ_WINDOWS) this.windows.delete(this.windows.keys().next().value!);
    return extents;
  }

  /** Write `data` at `offset`: device writes done, mapping events added to `c`. */
  async write(
    c: Change,
    ino: number,
    size: number,
    offset: number,
    data: Buffer,
    step: StepFn,
  ): Promise<void> {
    const end = offset + data.length;
    if (end > size) {
      await this.unmapPast(c, ino, size, step);
      await step(c);
    }
    const first = Math.floor(offset / BLOCK_SIZE);
    const last = Math.floor((end - 1) / BLOCK_SIZE);
    const mapped = await this.items.extents(ino, first, last);
    const fresh: Extent[] = [];
    for (const hole of holesIn(mapped, first, last)) {
      const spans = await this.alloc(hole.count, `inode ${ino}`);
      c.reserved.push(...spans);
      let logical = hole.start;
      for (const s of spans) {
        fresh.push({ logical, physical: s.start, count: s.count });
        logical += s.count;
      }
    }
    const writes: Promise<void>[] = [];
    for (const x of mapped) {
      const from = Math.max(offset, x.logical * BLOCK_SIZE);
      const to = Math.min(end, (x.logical + x.count) * BLOCK_SIZE);
      if (to > from) {
        const at = (x.physical - x.logical) * BLOCK_SIZE + from;
        writes.push(this.dev.write(at, data.subarray(from - offset, to - offset)));
      }
    }
    for (const x of fresh) {
      const bufStart = x.logical * BLOCK_SIZE;
      const bytes = x.count * BLOCK_SIZE;
      const from = Math.max(offset, bufStart);
      const to = Math.min(end, bufStart + bytes);
      if (from === bufStart && to === bufStart + bytes) {
        // the data covers the new blocks whole: no zeros to add around it
        writes.push(this.dev.write(x.physical * BLOCK_SIZE, data.subarray(from - offset, to - offset)));
        continue;
      }
      const buf = Buffer.alloc(bytes);
      data.copy(buf, from - bufStart, from - offset, to - offset);
      writes.push(this.dev.write(x.physical * BLOCK_SIZE, buf));
    }
    await Promise.all(writes);
    this.dirty = true;
    for (const x of fresh) await this.mapNew(c, ino, x);
  }

  /**
   * Set the size from `oldSize` to `newSize`. Shrinking unmaps the blocks past the new end but
   * leaves the bytes of its last block alone: zeroing them now, in place, would destroy
   * committed data if the truncate never commits. Growing zeroes them, since they are about to
   * become part of the file.
   */
  async truncate(c: Change, ino: number, oldSize: number, newSize: number, step: StepFn): Promise<void> {
    if (newSize < oldSize) await this.unmapPast(c, ino, newSize, step, false);
    else await this.unmapPast(c, ino, oldSize, step);
  }

  /**
   * Unmap the blocks past `size`; with `zeroTail`, zero the rest of the block that holds it
   * (only ever past the committed end of the file).
   */
  async unmapPast(c: Change, ino: number, size: number, step: StepFn, zeroTail = true): Promise<void> {
    const keep = Math.ceil(size / BLOCK_SIZE);
    const partial = size % BLOCK_SIZE;
    for (const x of await this.items.extentsFrom(ino, Math.max(0, keep - 1))) {
      if (zeroTail && partial && x.logical < keep) {
        const tail = (x.physical + (keep - 1 - x.logical)) * BLOCK_SIZE + partial;
        await this.dev.write(tail, Buffer.alloc(BLOCK_SIZE - partial));
        this.dirty = true;
      }
      if (x.logical + x.count <= keep) continue;
      c.events.push({ type: 'ExtentUnmapped', ino, ...x });
      if (x.logical < keep) {
        c.events.push({
          type: 'ExtentMapped',
          ino,
          logical: x.logical,
          physical: x.physical,
          count: keep - x.logical,
        });
      }
      if (c.events.length >= UNMAP_BATCH) await step(c);
    }
  }

  /** Unmap every extent of a file being deleted; returns how many there were. */
  async unmapAll(c: Change, ino: number, step: StepFn): Promise<void> {
    for (const x of await this.items.extentsFrom(ino, 0)) {
      c.events.push({ type: 'ExtentUnmapped', ino, ...x });
      if (c.events.length >= UNMAP_BATCH) await step(c);
    }
  }

  /**
   * Blocks for a write. When free space is short but blocks freed by the open transaction wait
   * for it to commit, commit now (and wait for reads still on them), so removing files makes
   * room at once.
   */
  private async alloc(count: number, what: string): Promise<Span[]> {
    if (count > this.space.freeBlocks && this.space.pendingBlocks > 0) {
      await this.writer.commit();
      await this.space.released();
    }
    return this.space.alloc(count, MAX_EXTENT_BLOCKS, what);
  }

  /** Data was written to the device behind this class's back (write windows): barrier it. */
  written(): void {
    this.dirty = true;
  }

  /** Map new blocks, merged into the extent just before them when they continue it. */
  async mapNew(c: Change, ino: number, x: Extent): Promise<void> {
    const pending = c.events.some(
      (e) => e.type === 'ExtentMapped' && e.ino === ino && e.logical + e.count === x.logical,
    );
    const [prev] =
      x.logical > 0 && !pending ? await this.items.extents(ino, x.logical - 1, x.logical - 1) : [];
    if (
      prev &&
      prev.logical + prev.count === x.logical &&
      prev.physical + prev.count === x.physical &&
      prev.count + x.count <= MAX_EXTENT_BLOCKS
    ) {
      c.events.push({ type: 'ExtentUnmapped', ino, ...prev });
      c.events.push({
        type: 'ExtentMapped',
        ino,
        logical: prev.logical,
        physical: prev.physical,
        count: prev.count + x.count,
      });
      return;
    }
    c.events.push({ type: 'ExtentMapped', ino, ...x });
  }
}

function holesIn(mapped: Extent[], first: number, last: number): Span[] {
  const holes: Span[] = [];
  let at = first;
  for (const x of mapped) {
    if (x.logical > at) holes.push({ start: at, count: Math.min(x.logical, last + 1) - at });
    at = Math.max(at, x.logical + x.count);
  }
  if (at <= last) holes.push({ start: at, count: last + 1 - at });
  return holes;
}
