/*
 * A device wrapper that fires the device.* triggers.
 *
 * It wraps any BlockDevice, so the same faults can be injected into a file, a loop device or
 * memory. After a torn write or a crashed sync the device is dead: every later call fails with
 * EIO, as the process would have died at that instant; `onDeath` lets a crash test end the
 * process right there instead.
 */

import { EIO } from '../errors.js';
import { BLOCK_SIZE } from '../format/layout.js';
import type { BlockDevice } from './device.js';
import type { Triggers } from './triggers.js';

export class FaultyDevice implements BlockDevice {
  private dead = false;

  constructor(
    private readonly inner: BlockDevice,
    readonly triggers: Triggers,
    private readonly onDeath: (why: string) => void = () => {},
  ) {}

  get name(): string {
    return this.inner.name;
  }

  get size(): number {
    return this.inner.size;
  }

  async read(offset: number, length: number, into?: Buffer): Promise<Buffer> {
    this.checkAlive();
    this.failIfTouches('device.read.eio', 'read', offset, length);
    return this.inner.read(offset, length, into);
  }

  async write(offset: number, data: Buffer): Promise<void> {
    this.checkAlive();
    this.failIfTouches('device.write.eio', 'write', offset, data.length);
    const torn = this.triggers.countdown('device.write.torn');
    if (torn) {
      const keep = Math.max(0, Math.min(data.length - 1, torn.keep ?? 0));
      if (keep > 0) await this.inner.write(offset, data.subarray(0, keep));
      this.die(`torn write at ${offset}: ${keep} of ${data.length} bytes stored`);
    }
    return this.inner.write(offset, data);
  }

  async sync(): Promise<void> {
    this.checkAlive();
    if (this.triggers.countdown('device.sync.crash')) this.die('crash before sync');
    return this.inner.sync();
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  private die(why: string): never {
    this.dead = true;
    this.onDeath(why);
    throw EIO(`${this.name}: ${why} (injected)`);
  }

  private checkAlive(): void {
    if (this.dead) throw EIO(`${this.name}: device is dead after an injected crash`);
  }

  private failIfTouches(
    name: 'device.read.eio' | 'device.write.eio',
    op: string,
    offset: number,
    length: number,
  ) {
    const p = this.triggers.params(name);
    if (p?.block === undefined) return;
    const first = Math.floor(offset / BLOCK_SIZE);
    const last = Math.floor((offset + Math.max(length, 1) - 1) / BLOCK_SIZE);
    if (p.block >= first && p.block <= last)
      throw EIO(`${this.name}: ${op} of block ${p.block} failed (injected)`);
  }
}
