/*
 * An opened volume: the device and its checked superblock.
 *
 * Opening checks before anything else reads the device: a superblock whose magic, crc, format
 * hash and size all agree (see superblock.ts). Fault triggers from SCOUTFS_TRIGGERS wrap the
 * device here, so any command can be run under injected faults.
 */

import type { BlockDevice } from '../device/device.js';
import { FaultyDevice } from '../device/faulty-device.js';
import { openFileDevice } from '../device/file-device.js';
import { Triggers } from '../device/triggers.js';
import type { Superblock } from '../format/layout.js';
import { readSuperblock } from './superblock.js';

export interface Volume {
  dev: BlockDevice;
  sb: Superblock;
}

export interface OpenOptions {
  readOnly?: boolean;
  /** Faults to inject; defaults to SCOUTFS_TRIGGERS from the environment. */
  triggers?: Triggers;
  onDeath?: (why: string) => void;
}

/** Open a device path, wrapped with fault triggers when any are armed. */
export async function openDevice(path: string, o: OpenOptions = {}): Promise<BlockDevice> {
  const dev = await openFileDevice(path, { readOnly: o.readOnly ?? false });
  const triggers = o.triggers ?? Triggers.parse(process.env.SCOUTFS_TRIGGERS);
  return triggers.any ? new FaultyDevice(dev, triggers, o.onDeath) : dev;
}

export async function openVolume(path: string, o: OpenOptions = {}): Promise<Volume> {
  const dev = await openDevice(path, o);
  return loadVolume(dev);
}

/** Check an already opened device and return it as a volume; closes the device on refusal. */
export async function loadVolume(dev: BlockDevice): Promise<Volume> {
  try {
    return { dev, sb: await readSuperblock(dev) };
  } catch (err) {
    await dev.close();
    throw err;
  }
}
