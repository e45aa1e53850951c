/*
 * Building the scale benchmark's volume through the filesystem API, the way the mount does it:
 * a Node opened on the device (store, log writer, data space, Fs) and `fs.create` for every
 * directory and file, in the tree's order, one operation at a time. The node commits on its
 * timer, checkpoints when its memtable is full or its log fills, and stalls creates while a
 * checkpoint it needs is in flight, exactly as under a mount. Then 1,000 inodes are chmodded
 * through `fs.chmod` after a noted seq.
 *
 * Inode numbers come from the node's reservations, in creation order, so they are the ones
 * scale-tree.ts numbers (root 1, then each directory followed by its files); the build checks
 * that as it goes.
 */

import { statSync } from 'node:fs';
import { openFileDevice } from '../src/device/file-device.js';
import { BLOCK_SIZE } from '../src/format/layout.js';
import { mkfs } from '../src/node/mkfs.js';
import { Node } from '../src/node/node.js';
import type { StoreOptions } from '../src/node/store.js';
import { cpuNow } from './measure.js';
import { peakRss } from './peak-rss.js';
import { changedInodes, createPaths, type Tree } from './scale-tree.js';

const GiB = 1024 ** 3;
const DEVICE_BYTES = 16 * GiB;
/**
 * Room for the runs: writeRun reserves a contiguous extent of about one block per 8 entries on
 * top of their bytes (src/lsm/run.ts), so the last compaction of 1,000,000 inodes (6,000,000
 * entries) asks for about 3.7 GiB in one piece; the default layout's meta region (a quarter of
 * what the logs leave: 1.9 GiB of 8 GiB) runs out at about 400,000 inodes.
 */
const META_BYTES = 12 * GiB;
const NOTE_EVERY = 100_000;
const WHO = { uid: 1000, gid: 1000 };

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
  /** Creates that waited for the checkpoint in flight, and the time they waited. */
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

export async function buildVolumeThroughFs(
  path: string,
  tree: Tree,
  changes: number,
  o: StoreOptions,
  note: (line: string) => void,
): Promise<BuildResult> {
  const dev = await openFileDevice(path, { createBytes: DEVICE_BYTES });
  await mkfs(dev, { logSlots: 2, quorumCount: 1, metaBlocks: META_BYTES / BLOCK_SIZE });
  await dev.close();
  const node = await Node.open(path, { ...o, slot: 1 });
  const fs = node.fs;
  let transactions = 0;
  let events = 0;
  node.writer.committed$.subscribe((t) => {
    transactions += 1;
    events += t.events.length;
  });
  let logPeakBlocks = 0;

  note(`building ${tree.inodes.toLocaleString('en-US')} inodes (${tree.dirs} directories) through fs.create`);
  const cpu0 = cpuNow();
  const t0 = performance.now();
  let n = 0;
  for (const c of createPaths(tree)) {
    const ino = await fs.create(c.path, c.mode, WHO);
    if (ino !== c.ino) throw new Error(`${c.path} got inode ${ino}, the tree numbers it ${c.ino}`);
    n += 1;
    if (n % 1000 === 0) logPeakBlocks = Math.max(logPeakBlocks, node.writer.usedBlocks);
    if (n % NOTE_EVERY === 0) note(`${n.toLocaleString('en-US')} creates, ${elapsed(t0)}, ${memoryNow()}`);
  }
  await fs.commit();
  const buildMs = performance.now() - t0;
  const buildCpuMs = cpuNow() - cpu0;
  const built = { transactions, events, ...node.counters };

  note('checkpoint after the build');
  const t1 = performance.now();
  const seqBefore = await node.sync();
  const checkpointMs = performance.now() - t1;

  const picked = changedInodes(tree, changes);
  note(`changing ${picked.length} inodes after seq ${seqBefore}`);
  for (const c of picked) await fs.chmod(c.ino, c.dir ? 0o750 : 0o600);
  await node.sync();
  const m = node.store.lsm.manifest;
  const writerCapacity = node.writer.capacityBlocks;
  const logBytesPerSlot = node.vol.sb.logBlocksPerSlot * BLOCK_SIZE;
  const metaBytes = node.vol.sb.metaBlocks * BLOCK_SIZE;
  await node.close();
  return {
    deviceBytes: DEVICE_BYTES,
    metaBytes,
    logBytesPerSlot,
    creates: n,
    events: built.events,
    transactions: built.transactions,
    buildMs,
    buildCpuMs,
    checkpointMs,
    trims: built.trims,
    stalls: built.stalls,
    stallMs: built.stallMs,
    logCapacityBlocks: writerCapacity,
    logPeakBlocks,
    seqBefore,
    changed: picked.map((c) => c.ino),
    changeTransactions: transactions - built.transactions,
    manifests: m.generation,
    runs: m.runs.length,
    runItems: m.runs.reduce((s, r) => s + r.items, 0),
    deviceAllocatedBytes: statSync(path).blocks * 512,
    peakRssBytes: peakRss(),
  };
}

function elapsed(t0: number): string {
  return `${((performance.now() - t0) / 1000).toFixed(1)} s`;
}

/** Where the process's memory is now, for the progress notes: RSS, its peak, V8 heap, Buffers. */
function memoryNow(): string {
  const m = process.memoryUsage();
  const mb = (n: number) => `${Math.round(n / 1e6)}`;
  return `RSS ${mb(m.rss)} MB (peak ${mb(peakRss())}), heap ${mb(m.heapUsed)}, buffers ${mb(m.arrayBuffers)}`;
}
