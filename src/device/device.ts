/*
 * The block device interface: positional reads and writes of a shared device, and a durability
 * barrier.
 *
 * Implementations: a regular file or a block device (file-device.ts), memory with power-loss
 * simulation (memory-device.ts), and a wrapper that fires named faults (faulty-device.ts). All
 * of them pass the same contract suite (test/device). `sync` is fdatasync: when it resolves,
 * every write that resolved before it was called is durable.
 */

import { EIO } from '../errors.js';
import { BLOCK_SIZE } from '../format/layout.js';

export interface BlockDevice {
  /** What to call the device in messages. */
  readonly name: string;
  /** Usable size in bytes. */
  readonly size: number;
  /**
   * A descriptor whose positional reads read this device, for readers on other threads (the
   * FUSE binding's); absent where reads must go through `read` (memory, fault injection).
   */
  readonly descriptor?: number;
  /** `length` bytes at `offset`; into `into` (at least `length` bytes) when given, else a new buffer. */
  read(offset: number, length: number, into?: Buffer): Promise<Buffer>;
  write(offset: number, data: Buffer): Promise<void>;
  sync(): Promise<void>;
  close(): Promise<void>;
}

export function readBlocks(dev: BlockDevice, blkno: number, count = 1): Promise<Buffer> {
  return dev.read(blkno * BLOCK_SIZE, count * BLOCK_SIZE);
}

export function writeBlocks(dev: BlockDevice, blkno: number, data: Buffer): Promise<void> {
  if (data.length % BLOCK_SIZE !== 0)
    throw new RangeError(`write of ${data.length} bytes is not whole blocks`);
  return dev.write(blkno * BLOCK_SIZE, data);
}

/** Bounds check shared by the implementations: an IO past the end is a bug or a wrong size. */
export function checkRange(dev: { name: string; size: number }, offset: number, length: number): void {
  if (!Number.isSafeInteger(offset) || offset < 0 || length < 0 || offset + length > dev.size) {
    throw EIO(`${dev.name}: IO of ${length} bytes at ${offset} is outside the device (${dev.size} bytes)`);
  }
}
