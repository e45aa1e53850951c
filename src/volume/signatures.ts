/*
 * What a device already holds, so mkfs never silently overwrites it.
 *
 * Looks for the signatures of filesystems and containers commonly found on shared disks
 * (scoutfs itself, ext2/3/4, XFS, btrfs, LUKS, a partition table) and, failing those, for any
 * non-zero byte in the first MiB. Only an all-zero start (a new file, a wiped LUN) counts as
 * empty.
 */

import type { BlockDevice } from '../device/device.js';
import { BLOCK_SIZE, MAGIC, SUPERBLOCK_BLOCKS } from '../format/layout.js';

const PROBE_BYTES = 1024 * 1024;

export async function describeExistingContents(dev: BlockDevice): Promise<string | null> {
  const head = await dev.read(0, Math.min(PROBE_BYTES, dev.size));
  for (const blkno of SUPERBLOCK_BLOCKS) {
    const at = blkno * BLOCK_SIZE;
    if (head.length >= at + 4 && head.readUInt32BE(at) === MAGIC.superblock) {
      return `a scoutfs filesystem (fsid ${head.subarray(at + 8, at + 16).toString('hex')})`;
    }
  }
  const has = (at: number, bytes: number[]) =>
    head.length >= at + bytes.length && bytes.every((b, i) => head[at + i] === b);
  if (has(1080, [0x53, 0xef])) return 'an ext2/3/4 filesystem';
  if (has(0, [0x58, 0x46, 0x53, 0x42])) return 'an XFS filesystem';
  if (has(65536 + 64, [...Buffer.from('_BHRfS_M')])) return 'a btrfs filesystem';
  if (has(0, [0x4c, 0x55, 0x4b, 0x53, 0xba, 0xbe])) return 'a LUKS container';
  if (has(510, [0x55, 0xaa])) return 'a partition table or boot sector';
  const nonZero = head.findIndex((b) => b !== 0);
  if (nonZero >= 0) return `data (a non-zero byte at offset ${nonZero})`;
  return null;
}
