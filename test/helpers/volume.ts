/*
 * Test helpers: fresh filesystems on memory, a file, or a loop device, and sample events.
 */

import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BlockDevice } from '../../src/device/device.js';
import { openFileDevice } from '../../src/device/file-device.js';
import { MemoryDevice } from '../../src/device/memory-device.js';
import type { FsEvent } from '../../src/events/event.js';
import { mkfs } from '../../src/node/mkfs.js';
import { Node } from '../../src/node/node.js';
import { loadVolume, type Volume } from '../../src/volume/volume.js';

export const MiB = 1024 * 1024;

export interface DeviceWorld {
  name: string;
  /** A fresh, zeroed device of `bytes`. */
  create(bytes: number): Promise<BlockDevice>;
  /** The same device opened again (after close), or null when the world cannot reopen. */
  reopen(dev: BlockDevice): Promise<BlockDevice> | null;
  cleanup(): void;
}

/** A fresh volume in a 256 MiB file (two log slots, a quorum of one), in a scratch directory. */
export async function scratchVolumeFile(): Promise<{ path: string; remove: () => void }> {
  const scratch = scratchDir();
  const path = join(scratch.dir, 'vol.img');
  const dev = await openFileDevice(path, { createBytes: 256 * MiB });
  await mkfs(dev, { logSlots: 2, quorumCount: 1 });
  await dev.close();
  return { path, remove: scratch.remove };
}

/** `fn` with a node (slot 0) open on a fresh scratch volume; closed and removed after, always. */
export async function withScratchNode(fn: (node: Node) => Promise<void>): Promise<void> {
  const vol = await scratchVolumeFile();
  try {
    const node = await Node.open(vol.path, { slot: 0 });
    try {
      await fn(node);
    } finally {
      await node.close();
    }
  } finally {
    vol.remove();
  }
}

/** A scratch directory removed by the returned function. */
export function scratchDir(prefix = 'scoutfs-test-'): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export function memoryWorld(): DeviceWorld {
  return {
    name: 'memory',
    create: async (bytes) => new MemoryDevice(bytes),
    reopen: () => null,
    cleanup: () => {},
  };
}

export function fileWorld(): DeviceWorld {
  const scratch = scratchDir();
  let n = 0;
  const paths = new Map<BlockDevice, string>();
  return {
    name: 'file',
    create: async (bytes) => {
      const path = join(scratch.dir, `dev${n++}.img`);
      const dev = await openFileDevice(path, { createBytes: bytes });
      paths.set(dev, path);
      return dev;
    },
    reopen: (dev) => openFileDevice(paths.get(dev)!),
    cleanup: scratch.remove,
  };
}

/** Loop devices need root and losetup; returns null when the machine cannot make one. */
export function loopWorld(): DeviceWorld | null {
  if (process.getuid?.() !== 0) return null;
  try {
    execFileSync('losetup', ['--version'], { stdio: 'ignore' });
  } catch {
    return null;
  }
  const scratch = scratchDir();
  const loops: string[] = [];
  let n = 0;
  const paths = new Map<BlockDevice, string>();
  return {
    name: 'loop',
    create: async (bytes) => {
      const backing = join(scratch.dir, `loop${n++}.img`);
      execFileSync('truncate', ['-s', String(bytes), backing]);
      const loop = execFileSync('losetup', ['-f', '--show', backing], { encoding: 'utf8' }).trim();
      loops.push(loop);
      const dev = await openFileDevice(loop);
      paths.set(dev, loop);
      return dev;
    },
    reopen: (dev) => openFileDevice(paths.get(dev)!),
    cleanup: () => {
      for (const loop of loops) {
        try {
          execFileSync('losetup', ['-d', loop]);
        } catch {
          // already detached
        }
      }
      scratch.remove();
    },
  };
}

export function allWorlds(): DeviceWorld[] {
  const loop = loopWorld();
  return [memoryWorld(), fileWorld(), ...(loop ? [loop] : [])];
}

/** A filesystem on `dev` with small logs, so tests reach the interesting edges quickly. */
export async function makeVolume(
  dev: BlockDevice,
  o: { logSlots?: number; logBlocksPerSlot?: number } = {},
): Promise<Volume> {
  await mkfs(dev, {
    quorumCount: 1,
    logSlots: o.logSlots ?? 2,
    logBlocksPerSlot: o.logBlocksPerSlot ?? 1024,
    force: true,
  });
  return loadVolume(dev);
}

/** A deterministic sample event; `i` varies inode, name and sizes. */
export function sampleEvent(i: number): FsEvent {
  const time = { sec: 1_700_000_000 + i, nsec: (i * 7919) % 1e9 };
  switch (i % 4) {
    case 0:
      return { type: 'InodeCreated', ino: 100 + i, mode: 0o100644, uid: 1000, gid: 1000, rdev: 0, time };
    case 1:
      return {
        type: 'DirentAdded',
        dir: 1,
        name: Buffer.from(`file-${i}`),
        ino: 100 + i,
        dtype: 8,
        pos: i,
        time,
      };
    case 2:
      return {
        type: 'XattrSet',
        ino: 100 + i,
        name: Buffer.from('user.k'),
        value: Buffer.alloc(i % 300, i),
        ctime: time,
      };
    default:
      return {
        type: 'DataWritten',
        ino: 100 + i,
        offset: i * 4096,
        length: 4096,
        size: (i + 1) * 4096,
        time,
      };
  }
}
