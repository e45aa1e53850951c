/*
 * Making a filesystem.
 *
 * mkfs refuses a device that holds anything (another filesystem, a partition table, any
 * non-zero byte at its start) unless forced. It then clears the start of the device and the
 * quorum blocks, writes every log slot's header pair, and commits the first transaction in slot
 * 0's log: the root directory, at seq 1. Only after all of that is synced does it write the two
 * superblock copies and sync again, so a crash during mkfs leaves a device that no one mistakes
 * for a filesystem.
 */

import { randomBytes } from 'node:crypto';
import { type BlockDevice, writeBlocks } from '../device/device.js';
import { FsError } from '../errors.js';
import { LogWriter } from '../events/log-writer.js';
import { LocalSeqAuthority } from '../events/seq-authority.js';
import { FIRST_RECORD_BLOCK, initialSlotHeaders } from '../events/slot-header.js';
import { FORMAT_HASH } from '../format/format-hash.js';
import {
  BLOCK_SIZE,
  computeLayout,
  FORMAT_VERSION,
  type Layout,
  type LayoutOptions,
  SUPERBLOCK_BLOCKS,
  type Superblock,
  slotStart,
} from '../format/layout.js';
import { writeInitialManifest } from '../lsm/manifest.js';
import { describeExistingContents } from '../volume/signatures.js';
import { encodeSuperblock } from '../volume/superblock.js';

export const ROOT_INO = 1;
const S_IFDIR = 0o040000;
const CLEAR_BYTES = 1024 * 1024;

export interface MkfsOptions extends Omit<LayoutOptions, 'totalBytes'> {
  force?: boolean;
  /** Wall-clock time of the root directory's creation (an input, so tests can fix it). */
  now?: Date;
}

export async function mkfs(dev: BlockDevice, o: MkfsOptions): Promise<Superblock> {
  let layout: Layout;
  try {
    layout = computeLayout({ ...o, totalBytes: dev.size });
  } catch (err) {
    throw new FsError('EINVAL', `${dev.name}: ${(err as Error).message}`);
  }
  const existing = await describeExistingContents(dev);
  if (existing && !o.force) {
    throw new FsError('EEXIST', `${dev.name} already holds ${existing}; use -f to overwrite it`);
  }
  const now = o.now ?? new Date();
  const sb: Superblock = {
    ...layout,
    fsid: randomBytes(8),
    formatHash: FORMAT_HASH,
    uuid: randomBytes(16),
    version: FORMAT_VERSION,
    generation: 1,
    rootIno: ROOT_INO,
    nextIno: ROOT_INO + 1,
    createdSec: Math.floor(now.getTime() / 1000),
  };
  const vol = { dev, sb };

  await dev.write(0, Buffer.alloc(Math.min(CLEAR_BYTES, dev.size)));
  await writeBlocks(dev, sb.quorumStart, Buffer.alloc(sb.quorumSlots * BLOCK_SIZE));
  for (let slot = 0; slot < sb.logSlots; slot++) {
    await writeBlocks(dev, slotStart(sb, slot), initialSlotHeaders(vol, slot));
    await writeBlocks(dev, slotStart(sb, slot) + FIRST_RECORD_BLOCK, Buffer.alloc(BLOCK_SIZE));
  }
  await writeInitialManifest(
    vol,
    Array.from({ length: sb.logSlots }, () => ({ lsn: 1, block: FIRST_RECORD_BLOCK, seq: 0, epoch: 0 })),
  );
  await dev.sync();

  const log = await LogWriter.open(vol, 0, new LocalSeqAuthority(0));
  const ms = now.getTime();
  const time = { sec: Math.floor(ms / 1000), nsec: (ms % 1000) * 1e6 };
  await log.append([
    { type: 'InodeCreated', ino: ROOT_INO, mode: S_IFDIR | 0o755, uid: 0, gid: 0, rdev: 0, time },
  ]);
  await log.close();

  for (const blkno of SUPERBLOCK_BLOCKS) await writeBlocks(dev, blkno, encodeSuperblock(sb, blkno));
  await dev.sync();
  return sb;
}
