/*
 * Building the scale benchmark's volume the way a mount will: through the log and the
 * projections, not through FUSE (whose round trips would measure the binding, not the index).
 *
 * A LogWriter on slot 1 appends each create's events; every CREATES_PER_COMMIT creates the open
 * transaction is committed without waiting, so the next one fills while the last is synced
 * (group commit), with at most COMMITS_IN_FLIGHT outstanding. Every committed transaction goes
 * from `writer.committed$` into `store.apply`, which folds it into the LSM and checkpoints in
 * the background when the memtable is full. When the log passes the store's retention budget
 * a checkpoint with the writer trims it, as a mount would. The producer waits whenever the
 * folds fall more than MAX_FOLD_LAG transactions behind, so memory measures the store, not a
 * queue, and after each memtable freeze until its flush and compactions are done (a write
 * stall, see WriteStall). Then the 1,000 changes go through the same path, a few per
 * transaction.
 */

import { statSync } from 'node:fs';
import { openFileDevice } from '../src/device/file-device.js';
import type { Transaction } from '../src/events/event.js';
import { LogWriter } from '../src/events/log-writer.js';
import { LocalSeqAuthority } from '../src/events/seq-authority.js';
import { BLOCK_SIZE } from '../src/format/layout.js';
import { mkfs } from '../src/node/mkfs.js';
import { Store, type StoreOptions } from '../src/node/store.js';
import { loadVolume } from '../src/volume/volume.js';
import { cpuNow } from './measure.js';
import { peakRss } from './peak-rss.js';
import { changedInodes, chmod, creates, type Tree } from './scale-tree.js';

const GiB = 1024 ** 3;
const DEVICE_BYTES = 16 * GiB;
/**
 * Room for the runs: writeRun reserves a contiguous extent of about one block per 8 entries on
 * top of their bytes (src/lsm/run.ts), so the last compaction of 1,000,000 inodes (6,000,000
 * entries) asks for about 3.7 GiB in one piece; the default layout's meta region (a quarter of
 * what the logs leave: 1.9 GiB of 8 GiB) runs out at about 400,000 inodes.
 */
const META_BYTES = 12 * GiB;
const CREATES_PER_COMMIT = 1000;
const COMMITS_IN_FLIGHT = 2;
const MAX_FOLD_LAG = 4;
const CHANGES_PER_COMMIT = 10;
const NOTE_EVERY = 100_000;

export interface BuildResult {
  deviceBytes: number;
  metaBytes: number;
  logBytesPerSlot: number;
  creates: number;
  events: number;
  transactions: number;
  /** Until every create was durable in the log and folded into the index. */
  buildMs: number;
  buildCpuMs: number;
  /** The checkpoint after the build (memtable flush and the compactions it set off). */
  checkpointMs: number;
  trims: number;
  /** Waits for flushes and compactions (see WriteStall), and the time they took. */
  stalls: number;
  stallMs: number;
  logCapacityBlocks: number;
  logPeakBlocks: number;
  /** The seq noted before the changes: walk-inodes from seqBefore+1 must return them all. */
  seqBefore: number;
  changed: number[];
  changeTransactions: number;
  manifests: number;
  runs: number;
  runItems: number;
  deviceAllocatedBytes: number;
  peakRssBytes: number;
}

export async function buildVolume(
  path: string,
  tree: Tree,
  changes: number,
  o: StoreOptions,
  note: (line: string) => void,
): Promise<BuildResult> {
  const dev = await openFileDevice(path, { createBytes: DEVICE_BYTES });
  await mkfs(dev, { logSlots: 2, quorumCount: 1, metaBlocks: META_BYTES / BLOCK_SIZE });
  const vol = await loadVolume(dev);
  const store = await Store.open(vol, o);
  const writer = await LogWriter.open(vol, 1, new LocalSeqAuthority(store.lastSeq));
  const fold = new Folding(store, writer);
  const stall = new WriteStall(store);
  const inFlight: Promise<number>[] = [];
  let trimming: Promise<void> | null = null;
  let trims = 0;
  let logPeakBlocks = 0;
  const commit = async () => {
    inFlight.push(writer.commit());
    while (inFlight.length > COMMITS_IN_FLIGHT) await inFlight.shift();
    await fold.keepUp(MAX_FOLD_LAG);
    await stall.check();
    logPeakBlocks = Math.max(logPeakBlocks, writer.usedBlocks);
    if (!trimming && writer.usedBlocks > writer.capacityBlocks * (o.retention ?? 0.5)) {
      trims += 1;
      trimming = store.checkpoint([writer]).finally(() => {
        trimming = null;
      });
    }
  };

  note(`building ${tree.inodes.toLocaleString('en-US')} inodes (${tree.dirs} directories)`);
  const cpu0 = cpuNow();
  const t0 = performance.now();
  let n = 0;
  let events = 0;
  for (const ev of creates(tree)) {
    await writer.append(ev);
    events += ev.length;
    if (++n % CREATES_PER_COMMIT === 0) await commit();
    if (n % NOTE_EVERY === 0) note(`${n.toLocaleString('en-US')} creates, ${elapsed(t0)}`);
  }
  await commit();
  await Promise.all(inFlight.splice(0));
  await fold.drain();
  const buildMs = performance.now() - t0;
  const buildCpuMs = cpuNow() - cpu0;
  const transactions = fold.applied;

  note('checkpoint after the build');
  const t1 = performance.now();
  await trimming;
  await store.checkpoint([writer]);
  const checkpointMs = performance.now() - t1;

  const seqBefore = store.lastSeq;
  const picked = changedInodes(tree, changes);
  note(`changing ${picked.length} inodes after seq ${seqBefore}`);
  for (const [k, c] of picked.entries()) {
    await writer.append([chmod(c, k)]);
    if ((k + 1) % CHANGES_PER_COMMIT === 0) await writer.commit();
  }
  await writer.commit();
  await fold.drain();
  await store.checkpoint([writer]);
  await writer.close();
  await store.close();
  const m = store.lsm.manifest;
  await dev.close();
  return {
    deviceBytes: DEVICE_BYTES,
    metaBytes: vol.sb.metaBlocks * BLOCK_SIZE,
    logBytesPerSlot: vol.sb.logBlocksPerSlot * BLOCK_SIZE,
    creates: n,
    events,
    transactions,
    buildMs,
    buildCpuMs,
    checkpointMs,
    trims,
    stalls: stall.stalls,
    stallMs: stall.ms,
    logCapacityBlocks: writer.capacityBlocks,
    logPeakBlocks,
    seqBefore,
    changed: picked.map((c) => c.ino),
    changeTransactions: fold.applied - transactions,
    manifests: m.generation,
    runs: m.runs.length,
    runItems: m.runs.reduce((s, r) => s + r.items, 0),
    deviceAllocatedBytes: statSync(path).blocks * 512,
    peakRssBytes: peakRss(),
  };
}

/** Committed transactions into the store, in order, with the lag the producer waits on. */
/**
 * The write stall: once the memtable has been frozen for a flush, wait until that flush and
 * the compactions after it are done. Store.apply starts a checkpoint whenever the active
 * memtable is full but never waits for the last one, so without this, frozen memtables queue
 * up behind slow compactions and memory grows without bound (LevelDB stops writes likewise).
 */
class WriteStall {
  stalls = 0;
  ms = 0;
  private lastSize = 0;

  constructor(private readonly store: Store) {}

  async check(): Promise<void> {
    const size = this.store.lsm.memtableSize;
    if (size < this.lastSize) {
      const t = performance.now();
      this.stalls += 1;
      await this.store.lsm.idle();
      this.ms += performance.now() - t;
    }
    this.lastSize = this.store.lsm.memtableSize;
  }
}

class Folding {
  applied = 0;
  private committed = 0;
  private last: Promise<void> = Promise.resolve();
  private failure: Error | null = null;

  constructor(store: Store, writer: LogWriter) {
    writer.committed$.subscribe((t: Transaction) => {
      this.committed += 1;
      const p = store.apply(t).then(() => {
        this.applied += 1;
      });
      p.catch((err: Error) => {
        this.failure ??= err;
      });
      this.last = p;
    });
  }

  /** Wait for the folds when they are more than `lag` transactions behind the log. */
  async keepUp(lag: number): Promise<void> {
    if (this.committed - this.applied > lag) await this.last.catch(() => {});
    if (this.failure) throw this.failure;
  }

  async drain(): Promise<void> {
    await this.keepUp(0);
  }
}

function elapsed(t0: number): string {
  return `${((performance.now() - t0) / 1000).toFixed(1)} s`;
}
