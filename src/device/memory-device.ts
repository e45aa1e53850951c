/*
 * A device in memory that models power loss.
 *
 * It keeps two images: what the device would hold after a power cut (durable) and what reads
 * see now (current). Writes land in current and are remembered as pending; sync makes them
 * durable. `powerCut(rng)` returns the device as it could be found after a crash: the durable
 * image plus, for each pending write, nothing, all of it, or a prefix cut at a sector boundary
 * or mid-sector, chosen by `rng`. Tests use it to check that the log never trusts what was not
 * synced and never loses what was.
 */

import { type BlockDevice, checkRange } from './device.js';

interface Pending {
  offset: number;
  data: Buffer;
}

export class MemoryDevice implements BlockDevice {
  private readonly current: Buffer;
  private readonly durable: Buffer;
  private pending: Pending[] = [];
  private closed = false;

  constructor(
    readonly size: number,
    readonly name = 'memory',
    image?: Buffer,
  ) {
    this.current = Buffer.alloc(size);
    if (image) image.copy(this.current);
    this.durable = Buffer.from(this.current);
  }

  async read(offset: number, length: number, into?: Buffer): Promise<Buffer> {
    this.checkOpen();
    checkRange(this, offset, length);
    const bytes = this.current.subarray(offset, offset + length);
    if (!into) return Buffer.from(bytes);
    bytes.copy(into);
    return into.subarray(0, length);
  }

  async write(offset: number, data: Buffer): Promise<void> {
    this.checkOpen();
    checkRange(this, offset, data.length);
    data.copy(this.current, offset);
    this.pending.push({ offset, data: Buffer.from(data) });
  }

  async sync(): Promise<void> {
    this.checkOpen();
    for (const p of this.pending) p.data.copy(this.durable, p.offset);
    this.pending = [];
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  /** Bytes written but not yet synced. */
  get unsyncedWrites(): number {
    return this.pending.length;
  }

  /** The device as found after a power cut now; `rng` returns numbers in [0, 1). */
  powerCut(rng: () => number = Math.random): MemoryDevice {
    const image = Buffer.from(this.durable);
    for (const p of this.pending) {
      const r = rng();
      if (r < 1 / 3) continue;
      const keep = r < 2 / 3 ? p.data.length : Math.floor(rng() * p.data.length);
      p.data.copy(image, p.offset, 0, keep);
    }
    return new MemoryDevice(this.size, this.name, image);
  }

  private checkOpen(): void {
    if (this.closed) throw new Error(`${this.name}: device is closed`);
  }
}
