/*
 * A device wrapper that counts what the log writer asks of the disk.
 *
 * It counts writes, bytes written and syncs (each sync is one fdatasync on a file device), so a
 * scenario can report transactions per fdatasync and bytes per fdatasync. With `discard` it
 * also drops writes and syncs without doing them, which turns a log writer into a measurement
 * of its own CPU cost: everything up to the device, nothing of the device. Reads always go to
 * the inner device (opening the log reads its header and finds its end).
 */

import type { BlockDevice } from '../src/device/device.js';

export interface DeviceCounts {
  writes: number;
  bytes: number;
  syncs: number;
}

export class CountingDevice implements BlockDevice {
  private readonly n: DeviceCounts = { writes: 0, bytes: 0, syncs: 0 };

  constructor(
    private readonly inner: BlockDevice,
    private readonly discard = false,
  ) {}

  get name(): string {
    return this.inner.name;
  }

  get size(): number {
    return this.inner.size;
  }

  /** The counts so far (a copy). */
  get counts(): DeviceCounts {
    return { ...this.n };
  }

  read(offset: number, length: number, into?: Buffer): Promise<Buffer> {
    return this.inner.read(offset, length, into);
  }

  write(offset: number, data: Buffer): Promise<void> {
    this.n.writes += 1;
    this.n.bytes += data.length;
    return this.discard ? Promise.resolve() : this.inner.write(offset, data);
  }

  sync(): Promise<void> {
    this.n.syncs += 1;
    return this.discard ? Promise.resolve() : this.inner.sync();
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

export function countsSince(later: DeviceCounts, earlier: DeviceCounts): DeviceCounts {
  return {
    writes: later.writes - earlier.writes,
    bytes: later.bytes - earlier.bytes,
    syncs: later.syncs - earlier.syncs,
  };
}
