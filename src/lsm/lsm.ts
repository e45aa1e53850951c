/*
 * The LSM index: memtable over immutable runs, with checkpoints and compaction.
 *
 * Reads consult the active memtable, then the memtable being flushed, then the runs newest
 * first; the first layer that holds a key (a tombstone included) answers, because projections
 * fold transactions in seq order and so every layer is newer than the ones below it. Range
 * scans merge all layers with the same rule.
 *
 * A checkpoint freezes the memtable, writes it as a new run, and switches the manifest to one
 * that includes the run and records the log positions it covers; a crash at any point leaves
 * the old manifest, whose positions make the next open replay exactly what the lost run held.
 * After a checkpoint, compaction merges the newest runs while their combined size reaches the
 * next older run's (a binary counter), so a volume of N items has about log2(N / flush size)
 * runs and every item is rewritten about that many times. Flushes and compactions run one at
 * a time, on a single maintenance chain, while folds keep going into the new memtable.
 */

import { EIO } from '../errors.js';
import { BLOCK_SIZE } from '../format/layout.js';
import type { RunEntry } from '../format/run-unit.js';
import type { ItemMutation, KeyRange } from '../projections/item.js';
import type { ItemIndex } from '../projections/projector.js';
import type { Volume } from '../volume/volume.js';
import { Allocator, type Extent } from './allocator.js';
import {
  type Manifest,
  metaDataStart,
  readManifest,
  type SlotCheckpoint,
  writeManifest,
} from './manifest.js';
import { Memtable } from './memtable.js';
import { mergeNewest, mergeNewestArrays } from './merge.js';
import { RunReader, writeRun } from './run.js';
import { UnitCache } from './unit-cache.js';

export interface LsmOptions {
  /** Flush the memtable once it holds about this many bytes. */
  memtableBytes?: number;
  /** Bound on decoded run units kept in memory. */
  cacheBytes?: number;
}

export const MIN_KEY = Buffer.alloc(0);
export const MAX_KEY = Buffer.alloc(512, 0xff);
export const ALL_KEYS: KeyRange = { first: MIN_KEY, last: MAX_KEY };

export class Lsm implements ItemIndex {
  private active = new Memtable();
  /** Memtables waiting for or being flushed, newest first. */
  private frozen: Memtable[] = [];
  private maintenance: Promise<void> = Promise.resolve();
  readonly memtableBytes: number;

  private constructor(
    private readonly vol: Volume,
    private manifestNow: Manifest,
    private readers: RunReader[],
    private readonly alloc: Allocator,
    private readonly cache: UnitCache,
    o: LsmOptions,
  ) {
    this.memtableBytes = o.memtableBytes ?? 64 * 1024 * 1024;
  }

  static async open(vol: Volume, o: LsmOptions = {}): Promise<Lsm> {
    const manifest = await readManifest(vol);
    const used: Extent[] = [
      manifest.extent,
      ...manifest.runs.map((r) => ({ start: r.start, blocks: r.blocks })),
    ];
    const start = metaDataStart(vol);
    const end = vol.sb.metaStart + vol.sb.metaBlocks;
    for (const x of used) {
      if (x.start < start || x.start + x.blocks > end)
        throw EIO(`manifest references blocks ${x.start}+${x.blocks} outside the meta region`);
    }
    const alloc = new Allocator(start, end - start, used);
    const cache = new UnitCache(o.cacheBytes ?? 32 * 1024 * 1024);
    const readers = await Promise.all(
      manifest.runs.map((r) => RunReader.open(vol.dev, vol.sb.fsid, r, cache)),
    );
    return new Lsm(vol, manifest, readers, alloc, cache, o);
  }

  /** The runs, newest first (for verification). */
  get runReaders(): readonly RunReader[] {
    return this.readers;
  }

  get manifest(): Manifest {
    return this.manifestNow;
  }

  get memtableSize(): number {
    return this.active.size;
  }

  get needsCheckpoint(): boolean {
    return this.active.approxBytes >= this.memtableBytes;
  }

  get freeMetaBlocks(): number {
    return this.alloc.freeBlocks;
  }

  async get(key: Buffer): Promise<Buffer | null> {
    // what memory answers (memtables, cached run units, bloom filters) needs no await per run
    const known = this.peek(key);
    if (known !== undefined) return known;
    const readers = this.readers;
    for (const r of readers) r.acquire();
    try {
      for (const r of readers) {
        const found = await r.get(key);
        if (found) return found.value;
      }
      return null;
    } finally {
      for (const r of readers) r.release();
    }
  }

  /**
   * The value of `key` when it can be known without IO: from a memtable, from run units in the
   * cache, or null when no run's bloom filter admits it. Undefined means "ask `get`".
   */
  peek(key: Buffer, id = key.toString('latin1')): Buffer | null | undefined {
    let e = this.active.get(key, id);
    for (let i = 0; !e && i < this.frozen.length; i++) e = this.frozen[i]!.get(key, id);
    if (e) return e.value;
    for (const r of this.readers) {
      const found = r.getNow(key);
      if (found === undefined) return undefined;
      if (found !== null) return found.value;
    }
    return null;
  }

  /** As keysIn, when every run unit it needs is in the cache; undefined means "ask `keysIn`". */
  keysInNow(range: KeyRange): Buffer[] | undefined {
    const sources = this.memSources(range);
    for (const r of this.readers) {
      const found = r.collectNow(range.first, range.last);
      if (found === undefined) return undefined;
      sources.push(found);
    }
    return mergeNewestArrays(sources, true).map((e) => e.key);
  }

  async keysIn(range: KeyRange): Promise<Buffer[]> {
    return (await this.collect(range)).map(([k]) => k);
  }

  /** Live items in a range, in key order. */
  async *scan(range: KeyRange): AsyncGenerator<[Buffer, Buffer]> {
    for await (const e of this.entries(range, true)) yield [e.key, e.value!];
  }

  /** Live items in a range, all at once: cheaper than `scan` for ranges that fit in memory. */
  async collect(range: KeyRange): Promise<[Buffer, Buffer][]> {
    const readers = this.readers;
    const sources = this.memSources(range);
    for (const r of readers) r.acquire();
    try {
      for (const r of readers) sources.push(await r.collect(range.first, range.last));
    } finally {
      for (const r of readers) r.release();
    }
    return mergeNewestArrays(sources, true).map((e) => [e.key, e.value!]);
  }

  /** Current entries in a range across all layers; tombstones too unless `live`. */
  entries(range: KeyRange, live = false): AsyncGenerator<RunEntry> {
    const sources = [...this.memSources(range), ...this.readers.map((r) => r.range(range.first, range.last))];
    return live ? mergeNewest(sources, true) : mergeNewest(sources);
  }

  apply(mutations: ItemMutation[], seq: number): void {
    for (const m of mutations) this.active.put(m.key, seq, m.value, m.id);
  }

  /**
   * Make everything folded so far durable in a run, recording that it covers the logs up to
   * `checkpoint` and seqs up to `lastSeq`. The memtable is frozen now (synchronously), so the
   * positions must be those of the last transaction folded before this call.
   */
  checkpoint(checkpoint: SlotCheckpoint[], lastSeq: number): Promise<void> {
    const frozen = this.active;
    this.active = new Memtable();
    this.frozen.unshift(frozen);
    const work = this.maintenance.then(() => this.flush(frozen, checkpoint, lastSeq));
    this.maintenance = work.catch(() => {});
    return work;
  }

  /** Wait for flushes and compactions in progress. */
  idle(): Promise<void> {
    return this.maintenance;
  }

  private async flush(frozen: Memtable, checkpoint: SlotCheckpoint[], lastSeq: number): Promise<void> {
    try {
      const prev = this.manifestNow;
      const runs = [...prev.runs];
      const readers = [...this.readers];
      let nextRunId = prev.nextRunId;
      if (frozen.size > 0) {
        const entries = function* () {
          for (const [key, e] of frozen.entries()) yield { key, seq: e.seq, value: e.value };
        };
        const meta = await writeRun(this.target(), nextRunId++, entries, frozen.size, frozen.payloadBytes);
        runs.unshift(meta);
        readers.unshift(await RunReader.open(this.vol.dev, this.vol.sb.fsid, meta, this.cache));
      }
      await this.switchTo(prev, { runs, checkpoint, lastSeq, nextRunId }, readers, []);
    } finally {
      this.frozen = this.frozen.filter((m) => m !== frozen);
    }
    await this.compact();
  }

  private async compact(): Promise<void> {
    const runs = this.manifestNow.runs;
    let j = 0;
    let items = runs[0]?.items ?? 0;
    while (j + 1 < runs.length && items >= runs[j + 1]!.items) {
      j += 1;
      items += runs[j]!.items;
    }
    if (j === 0) return;
    const prev = this.manifestNow;
    const merging = this.readers.slice(0, j + 1);
    const bottom = j === runs.length - 1;
    // what the inputs hold bounds what the merge writes (it only drops entries)
    const bytes = merging.reduce((n, r) => n + r.meta.blocks * BLOCK_SIZE, 0) * 0.8;
    const merged = () =>
      mergeNewest(
        merging.map((r) => r.stream()),
        bottom,
      );
    const meta = await writeRun(this.target(), prev.nextRunId, merged, items, bytes);
    const reader = await RunReader.open(this.vol.dev, this.vol.sb.fsid, meta, this.cache);
    await this.switchTo(
      prev,
      {
        runs: [meta, ...runs.slice(j + 1)],
        checkpoint: prev.checkpoint,
        lastSeq: prev.lastSeq,
        nextRunId: prev.nextRunId + 1,
      },
      [reader, ...this.readers.slice(j + 1)],
      merging,
    );
  }

  private async switchTo(
    prev: Manifest,
    next: Omit<Manifest, 'generation' | 'extent'>,
    readers: RunReader[],
    dropped: RunReader[],
  ): Promise<void> {
    this.manifestNow = await writeManifest(this.vol, this.alloc, prev, next);
    this.readers = readers;
    this.alloc.release(prev.extent);
    for (const r of dropped) {
      // its blocks stay allocated until the last scan or lookup still reading it is done
      void r.retired().then(() => {
        r.evict();
        this.alloc.release({ start: r.meta.start, blocks: r.meta.blocks });
      });
    }
  }

  /** The memtables' entries in a range, newest memtable first, as merge sources. */
  private memSources(range: KeyRange): RunEntry[][] {
    return [memEntries(this.active, range), ...this.frozen.map((m) => memEntries(m, range))];
  }

  private target() {
    return { dev: this.vol.dev, fsid: this.vol.sb.fsid, alloc: this.alloc };
  }
}

/** A memtable's entries in a range, tombstones included, as merge sources take them. */
function memEntries(m: Memtable, range: KeyRange): RunEntry[] {
  return [...m.range(range.first, range.last)].map(([key, e]) => ({ key, seq: e.seq, value: e.value }));
}
