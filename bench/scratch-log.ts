/*
 * A fresh file-backed filesystem per scenario, and its slot 0 log opened for appending.
 *
 * Each scenario gets its own device file, made with mkfs like a real one: a sparse file whose
 * log region is a hole until the log writes it, which is also how the raw reference file
 * starts, so both pay the same block allocation. The log is sized (4 GiB) so no scenario
 * wraps or fills it in a few seconds; `nearlyFull` lets a scenario stop before ENOSPC anyway.
 * After a scenario the log can be read back from its tail, to check that every event the bench
 * appended is there, in order, with seqs that grow.
 */

import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { openFileDevice } from '../src/device/file-device.js';
import { LogCursor } from '../src/events/log-cursor.js';
import { LogWriter } from '../src/events/log-writer.js';
import { LocalSeqAuthority } from '../src/events/seq-authority.js';
import { BLOCK_SIZE } from '../src/format/layout.js';
import { mkfs } from '../src/node/mkfs.js';
import { loadVolume, type Volume } from '../src/volume/volume.js';
import { CountingDevice } from './counting-device.js';

const GiB = 1024 * 1024 * 1024;
export const LOG_BYTES = 4 * GiB;
const DEVICE_BYTES = LOG_BYTES + 256 * 1024 * 1024;

export interface ScratchLog {
  vol: Volume;
  dev: CountingDevice;
  writer: LogWriter;
  /** Seq of the last transaction before the bench's first one (mkfs's root directory). */
  firstSeq: number;
  nearlyFull(): boolean;
  /** Commit, close and delete the device file. */
  dispose(): Promise<void>;
}

/** A new filesystem in `dir`; with `discard`, the writer's writes and syncs go nowhere. */
export async function freshLog(
  dir: string,
  name: string,
  o: { discard?: boolean } = {},
): Promise<ScratchLog> {
  const path = join(dir, `${name}.img`);
  const file = await openFileDevice(path, { createBytes: DEVICE_BYTES });
  await mkfs(file, { logSlots: 1, quorumCount: 1, logBlocksPerSlot: LOG_BYTES / BLOCK_SIZE });
  const dev = new CountingDevice(file, o.discard ?? false);
  const vol: Volume = { dev, sb: (await loadVolume(file)).sb };
  const cursor = await LogCursor.atTail(vol, 0);
  while (await cursor.next());
  const firstSeq = cursor.position.seq;
  const writer = await LogWriter.open(vol, 0, new LocalSeqAuthority(firstSeq));
  return {
    vol,
    dev,
    writer,
    firstSeq,
    nearlyFull: () => writer.position.usedBlocks > writer.capacityBlocks * 0.9,
    dispose: async () => {
      await writer.close();
      await dev.close();
      await rm(path, { force: true });
    },
  };
}

export interface ReadBack {
  txns: number;
  events: number;
  ms: number;
}

/** Read the whole log from its tail, counting the transactions and events after `afterSeq`. */
export async function readBack(vol: Volume, afterSeq: number): Promise<ReadBack> {
  const start = performance.now();
  const cursor = await LogCursor.atTail(vol, 0);
  let txns = 0;
  let events = 0;
  for (let t = await cursor.next(); t; t = await cursor.next()) {
    if (t.seq <= afterSeq) continue;
    txns += 1;
    events += t.events.length;
  }
  return { txns, events, ms: performance.now() - start };
}
