/*
 * Runs: immutable sorted files of items in the meta region.
 *
 * A run is one contiguous extent: data units (sorted entries, about a block each; an entry too
 * big for a block gets a unit of its own size), then an index unit (the first key and place of
 * every data unit) and a bloom unit. Every unit is crc'd and carries the run's id as its seq,
 * so a block from another run, another filesystem, or a torn write is EIO naming the block.
 * The manifest holds each run's RunMeta; a reader loads the index and bloom once and then reads
 * one data unit per lookup, through the unit cache.
 */

import { type BlockDevice, readBlocks, writeBlocks } from '../device/device.js';
import { EIO } from '../errors.js';
import { BLOCK_SIZE, MAGIC } from '../format/layout.js';
import { decodeEntries, encodeEntries, entryBytes, type RunEntry } from '../format/run-unit.js';
import { claimedBlocks, openUnit, sealUnit, UNIT_HEADER_BYTES, unitBlocks } from '../format/unit.js';
import type { Allocator, Extent } from './allocator.js';
import { lowerBound } from './bisect.js';
import { Bloom } from './bloom.js';
import { RunIndex, RunIndexBuilder } from './run-index.js';
import type { UnitCache } from './unit-cache.js';

const UNIT_PAYLOAD_TARGET = BLOCK_SIZE - UNIT_HEADER_BYTES;
const WRITE_CHUNK = 1024 * 1024;
/** A merge reads a run's units in spans of this many bytes. */
const STREAM_BYTES = 256 * 1024;
const byKey = (e: RunEntry, key: Buffer) => Buffer.compare(e.key, key);
/** Index bytes per data unit: its first key (keys are at most a few hundred bytes) and place. */
const INDEX_BYTES_PER_UNIT = 300;
/** Per-entry framing in a data unit: key length, seq, value length. */
const ENTRY_FRAMING = 14;

export interface RunMeta {
  id: number;
  start: number;
  blocks: number;
  indexBlock: number;
  bloomBlock: number;
  items: number;
  minSeq: number;
  maxSeq: number;
}

export interface RunTarget {
  dev: BlockDevice;
  fsid: Buffer;
  alloc: Allocator;
}

/**
 * Write sorted entries as a new run; synced before returning. `payloadBytes` estimates the
 * entries' keys and values. Units are cut before an entry that does not fit, so they are
 * nearly full in practice but only half full at worst: the first attempt reserves for a
 * realistic packing, and should the run outgrow it, the extent is released and the run written
 * again with room for the worst case. What a run leaves of its reservation is released.
 */
export async function writeRun(
  t: RunTarget,
  id: number,
  source: () => Iterable<RunEntry> | AsyncIterable<RunEntry>,
  estimateItems: number,
  payloadBytes: number,
): Promise<RunMeta> {
  const packed = (payloadBytes + estimateItems * ENTRY_FRAMING) / UNIT_PAYLOAD_TARGET;
  try {
    return await writeRunInto(t, id, source(), estimateItems, Math.ceil(1.25 * packed) + 4);
  } catch (err) {
    if (!(err instanceof RunOverflow)) throw err;
    return writeRunInto(t, id, source(), estimateItems, Math.ceil(2 * packed) + 4 + err.bigEntries);
  }
}

class RunOverflow extends Error {
  constructor(readonly bigEntries: number) {
    super('run outgrew its reservation');
  }
}

async function writeRunInto(
  t: RunTarget,
  id: number,
  entries: Iterable<RunEntry> | AsyncIterable<RunEntry>,
  estimateItems: number,
  maxDataBlocks: number,
): Promise<RunMeta> {
  const bloomBytes = Bloom.sized(estimateItems).bits.length;
  const reserve =
    maxDataBlocks + unitBlocks(bloomBytes) + unitBlocks(maxDataBlocks * INDEX_BYTES_PER_UNIT) + 4;
  const extent = t.alloc.alloc(reserve, `run ${id}`);
  try {
    return await fillRun(t, id, extent, entries, estimateItems);
  } catch (err) {
    t.alloc.release(extent);
    throw err;
  }
}

async function fillRun(
  t: RunTarget,
  id: number,
  extent: Extent,
  entries: Iterable<RunEntry> | AsyncIterable<RunEntry>,
  estimateItems: number,
): Promise<RunMeta> {
  const w = new ExtentWriter(t, extent, id);
  const index = new RunIndexBuilder();
  const bloom = Bloom.sized(estimateItems);
  let unit: RunEntry[] = [];
  let unitBytes = 4;
  let items = 0;
  let minSeq = Number.MAX_SAFE_INTEGER;
  let maxSeq = 0;
  const flushUnit = async () => {
    if (unit.length === 0) return;
    const at = await w.put(MAGIC.runData, encodeEntries(unit));
    index.push(unit[0]!.key, at.block, at.blocks);
    unit = [];
    unitBytes = 4;
  };
  for await (const e of entries) {
    const n = entryBytes(e.key, e.value);
    if (unit.length > 0 && unitBytes + n > UNIT_PAYLOAD_TARGET) await flushUnit();
    unit.push(e);
    unitBytes += n;
    bloom.add(e.key);
    items += 1;
    minSeq = Math.min(minSeq, e.seq);
    maxSeq = Math.max(maxSeq, e.seq);
  }
  await flushUnit();
  const indexAt = await w.put(MAGIC.runIndex, index.finish().encode());
  const bloomAt = await w.put(MAGIC.runBloom, bloom.bits);
  await w.finish();
  const used = w.usedBlocks;
  if (used < extent.blocks) t.alloc.release({ start: extent.start + used, blocks: extent.blocks - used });
  await t.dev.sync();
  return {
    id,
    start: extent.start,
    blocks: used,
    indexBlock: indexAt.block,
    bloomBlock: bloomAt.block,
    items,
    minSeq: items ? minSeq : 0,
    maxSeq,
  };
}

/** Sequential writer of units into an extent, in large writes. */
class ExtentWriter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private next: number;
  private flushedTo: number;
  private bigUnits = 0;

  constructor(
    private readonly t: RunTarget,
    private readonly extent: Extent,
    private readonly id: number,
  ) {
    this.next = extent.start;
    this.flushedTo = extent.start;
  }

  get usedBlocks(): number {
    return this.next - this.extent.start;
  }

  async put(magic: number, payload: Buffer): Promise<{ block: number; blocks: number }> {
    const blocks = unitBlocks(payload.length);
    if (this.next + blocks > this.extent.start + this.extent.blocks) throw new RunOverflow(this.bigUnits + 1);
    if (blocks > 1) this.bigUnits += 1;
    const block = this.next;
    this.pending.push(sealUnit({ magic, fsid: this.t.fsid, seq: this.id, blkno: block }, payload));
    this.pendingBytes += blocks * BLOCK_SIZE;
    this.next += blocks;
    if (this.pendingBytes >= WRITE_CHUNK) await this.finish();
    return { block, blocks };
  }

  async finish(): Promise<void> {
    if (this.pending.length === 0) return;
    await writeBlocks(this.t.dev, this.flushedTo, Buffer.concat(this.pending));
    this.flushedTo = this.next;
    this.pending = [];
    this.pendingBytes = 0;
  }
}

/** Read access to one run: index and bloom in memory, data units through the cache. */
export class RunReader {
  private users = 0;
  private readonly waiters: (() => void)[] = [];

  private constructor(
    readonly meta: RunMeta,
    private readonly dev: BlockDevice,
    private readonly fsid: Buffer,
    private readonly cache: UnitCache,
    private readonly index: RunIndex,
    private readonly bloom: Bloom,
  ) {}

  static async open(dev: BlockDevice, fsid: Buffer, meta: RunMeta, cache: UnitCache): Promise<RunReader> {
    const what = (kind: string) => `run ${meta.id} ${kind}`;
    const indexUnit = await readUnit(dev, fsid, meta.indexBlock, MAGIC.runIndex, meta.id, what('index'));
    const index = RunIndex.decode(indexUnit, `${what('index')} (block ${meta.indexBlock})`);
    // the payload as read (a view past the unit header): no copy of a filter that can be megabytes
    const bloom = new Bloom(
      await readUnit(dev, fsid, meta.bloomBlock, MAGIC.runBloom, meta.id, what('bloom')),
    );
    return new RunReader(meta, dev, fsid, cache, index, bloom);
  }

  /** False when the run certainly does not hold `key` (its bloom filter says so), without IO. */
  mayHold(key: Buffer): boolean {
    return this.bloom.mayContain(key);
  }

  /** The entry for `key` (a tombstone included), or undefined when the run does not hold it. */
  async get(key: Buffer): Promise<RunEntry | undefined> {
    if (!this.bloom.mayContain(key)) return undefined;
    const u = this.index.unitFor(key);
    if (u < 0) return undefined;
    this.users += 1;
    try {
      return entryIn(await this.unit(u), key) ?? undefined;
    } finally {
      this.release();
    }
  }

  /**
   * As get, without IO: the entry, null when the run does not hold the key, undefined when
   * telling would need a unit that is not in the cache.
   */
  getNow(key: Buffer): RunEntry | null | undefined {
    if (!this.bloom.mayContain(key)) return null;
    const u = this.index.unitFor(key);
    if (u < 0) return null;
    const entries = this.cache.get(this.meta.id, this.index.block(u));
    return entries && entryIn(entries, key);
  }

  /** As collect, without IO: undefined when a unit it needs is not in the cache. */
  collectNow(first: Buffer, last: Buffer): RunEntry[] | undefined {
    const out: RunEntry[] = [];
    for (let u = Math.max(0, this.index.unitFor(first)); u < this.index.length; u++) {
      if (this.index.compareFirst(u, last) > 0) break;
      const entries = this.cache.get(this.meta.id, this.index.block(u));
      if (!entries) return undefined;
      if (takeRange(entries, first, last, out)) break;
    }
    return out;
  }

  /** Entries with first <= key <= last, in order. */
  async *range(first: Buffer, last: Buffer): AsyncGenerator<RunEntry> {
    this.users += 1;
    try {
      for (let u = Math.max(0, this.index.unitFor(first)); u < this.index.length; u++) {
        if (this.index.compareFirst(u, last) > 0) return;
        const entries = await this.unit(u);
        for (let i = lowerBound(entries, first, byKey); i < entries.length; i++) {
          if (Buffer.compare(entries[i]!.key, last) > 0) return;
          yield entries[i]!;
        }
      }
    } finally {
      this.release();
    }
  }

  /**
   * Every entry, in order, for a merge: units are read in spans of up to STREAM_BYTES (the
   * run's units are contiguous), each checked as a lookup checks it, and none goes into the
   * unit cache, so a compaction neither evicts what lookups use nor holds more than one span
   * per run it merges.
   */
  async *stream(): AsyncGenerator<RunEntry> {
    this.users += 1;
    try {
      const what = `run ${this.meta.id} data unit`;
      for (let u = 0; u < this.index.length; ) {
        const start = this.index.block(u);
        let v = u;
        let blocks = 0;
        while (
          v < this.index.length &&
          this.index.block(v) === start + blocks &&
          (blocks === 0 || (blocks + this.index.size(v)) * BLOCK_SIZE <= STREAM_BYTES)
        ) {
          blocks += this.index.size(v);
          v += 1;
        }
        const span = await readBlocks(this.dev, start, blocks);
        for (; u < v; u++) {
          const block = this.index.block(u);
          const at = (block - start) * BLOCK_SIZE;
          const unit = span.subarray(at, at + this.index.size(u) * BLOCK_SIZE);
          const payload = runPayload(unit, this.fsid, block, MAGIC.runData, this.meta.id, what);
          yield* decodeEntries(payload, `${what} (block ${block})`);
        }
      }
    } finally {
      this.release();
    }
  }

  /** Entries with first <= key <= last, in order, as one array (one await per unit). */
  async collect(first: Buffer, last: Buffer): Promise<RunEntry[]> {
    const out: RunEntry[] = [];
    this.users += 1;
    try {
      for (let u = Math.max(0, this.index.unitFor(first)); u < this.index.length; u++) {
        if (this.index.compareFirst(u, last) > 0) break;
        if (takeRange(await this.unit(u), first, last, out)) break;
      }
      return out;
    } finally {
      this.release();
    }
  }

  /**
   * Resolves once no lookup or scan is reading the run any more: a run dropped from the
   * manifest keeps its blocks until then, so a scan that started before a compaction finishes
   * on the blocks it started with.
   */
  retired(): Promise<void> {
    if (this.users === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Hold the run's blocks for a read that spans several calls (see retired). */
  acquire(): void {
    this.users += 1;
  }

  release(): void {
    this.users -= 1;
    if (this.users === 0) for (const w of this.waiters.splice(0)) w();
  }

  /** Forget the run's cached units (its blocks are about to be reused). */
  evict(): void {
    for (let u = 0; u < this.index.length; u++) this.cache.drop(this.meta.id, this.index.block(u));
  }

  /** Every block of the run, checked (for verification tools). */
  async checkAll(): Promise<number> {
    for (let u = 0; u < this.index.length; u++) {
      this.cache.drop(this.meta.id, this.index.block(u));
      await this.unit(u);
    }
    return this.index.length;
  }

  private async unit(u: number): Promise<RunEntry[]> {
    const x = { block: this.index.block(u), blocks: this.index.size(u) };
    const cached = this.cache.get(this.meta.id, x.block);
    if (cached) return cached;
    const what = `run ${this.meta.id} data unit`;
    const payload = await readUnit(this.dev, this.fsid, x.block, MAGIC.runData, this.meta.id, what, x.blocks);
    const entries = decodeEntries(payload, `${what} (block ${x.block})`);
    this.cache.set(this.meta.id, x.block, entries, payload.length + entries.length * 300);
    return entries;
  }
}

/** The entry for `key` in a unit's sorted entries, or null. */
function entryIn(entries: RunEntry[], key: Buffer): RunEntry | null {
  const e = entries[lowerBound(entries, key, byKey)];
  return e?.key.equals(key) ? e : null;
}

/** Append a unit's entries from `first` to `last` to `out`; true once past `last`. */
function takeRange(entries: RunEntry[], first: Buffer, last: Buffer, out: RunEntry[]): boolean {
  for (let i = lowerBound(entries, first, byKey); i < entries.length; i++) {
    if (Buffer.compare(entries[i]!.key, last) > 0) return true;
    out.push(entries[i]!);
  }
  return false;
}

async function readUnit(
  dev: BlockDevice,
  fsid: Buffer,
  blkno: number,
  magic: number,
  runId: number,
  what: string,
  blocks?: number,
): Promise<Buffer> {
  let buf = await readBlocks(dev, blkno, blocks ?? 1);
  if (blocks === undefined) {
    const n = claimedBlocks(buf);
    if (n > 1 && n < 1 << 20) buf = await readBlocks(dev, blkno, n);
  }
  return runPayload(buf, fsid, blkno, magic, runId, what);
}

/** A unit of run `runId` checked whole (see openUnit) and as that run's: its payload. */
function runPayload(
  buf: Buffer,
  fsid: Buffer,
  blkno: number,
  magic: number,
  runId: number,
  what: string,
): Buffer {
  const { payload, seq } = openUnit(buf, { magic, fsid, blkno, what });
  if (seq !== runId) throw EIO(`${what} (block ${blkno}) belongs to run ${seq}, not ${runId}`);
  return payload;
}
