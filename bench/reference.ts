/*
 * The yardsticks a log figure is divided by.
 *
 * The disk: the same bytes per transaction written with fs.write and made durable with
 * fs.fdatasync, one after the other, into a plain sparse file in the same directory, at
 * consecutive offsets the way the log fills its region (so both pay the same block
 * allocation). That is the most fdatasyncs per second this disk allows at that record size,
 * with no filesystem code in the way. It is measured in slices, interleaved with the scenario.
 *
 * The CPU: events encoded by the format's encodeEvent alone (and, to show where its time goes,
 * by encodeEvents a hundred at a time and by cbor-x alone on the same wire arrays), and whole
 * records built (encode each event, the list head, the record header and its crc32c), with no
 * IO and no writer.
 */

import { fdatasync, promises as fsp, write } from 'node:fs';
import { join } from 'node:path';
import type { FsEvent } from '../src/events/event.js';
import { cborDecode, cborEncode } from '../src/format/cbor.js';
import { encodeEvent, encodeEvents, eventListHead } from '../src/format/event-codec.js';
import { BLOCK_SIZE } from '../src/format/layout.js';
import { encodeRecord } from '../src/format/record.js';
import { perSecond, runCpu, runFor, type Window } from './measure.js';
import { LOG_BYTES } from './scratch-log.js';

/** A sparse file taking write+fdatasync of a fixed size at consecutive offsets. */
export class RawFile {
  private offset = 0;

  private constructor(
    private readonly fh: fsp.FileHandle,
    private readonly path: string,
    /** Bytes written before each fdatasync (whole blocks). */
    readonly bytes: number,
  ) {}

  static async open(dir: string, bytes: number): Promise<RawFile> {
    const size = Math.max(BLOCK_SIZE, Math.ceil(bytes / BLOCK_SIZE) * BLOCK_SIZE);
    const path = join(dir, `raw-${size}.img`);
    const fh = await fsp.open(path, 'wx+');
    await fh.truncate(LOG_BYTES);
    return new RawFile(fh, path, size);
  }

  /** fs.write then fs.fdatasync, back to back, for `ms`. */
  slice(ms: number): Promise<Window> {
    const buf = Buffer.alloc(this.bytes, 0x5a);
    const fd = this.fh.fd;
    return runFor(async () => {
      if (this.offset + this.bytes > LOG_BYTES) this.offset = 0;
      await call((cb) => write(fd, buf, 0, buf.length, this.offset, (err) => cb(err)));
      await call((cb) => fdatasync(fd, cb));
      this.offset += this.bytes;
    }, ms);
  }

  async close(): Promise<void> {
    await this.fh.close();
    await fsp.rm(this.path, { force: true });
  }
}

export interface CpuRate {
  /** Per second of wall-clock time, and per second of process CPU time. */
  perSec: number;
  perCpuSec: number;
}

export interface EncodeResult {
  bytesPerEvent: number;
  /** encodeEvent, one call per event (the writer encodes a whole operation per call, encodeEventRun). */
  encodeEvent: CpuRate;
  /** encodeEvents, one call per 100 events. */
  encodeEvents100: CpuRate;
  /** cbor-x alone on the same wire arrays, one call per event: the floor under encodeEvent. */
  cborOnly: CpuRate;
}

/** The codec's cost per event, no IO. */
export async function encodeRates(pool: readonly FsEvent[], ms: number): Promise<EncodeResult> {
  const encoded = pool.map((e) => encodeEvent(e));
  const wire = encoded.map((b) => cborDecode(b));
  if (!wire.every((w, i) => cborEncode(w).equals(encoded[i]!)))
    throw new Error('wire arrays re-encode differently');
  const bytesPerEvent = encoded.reduce((n, b) => n + b.length, 0) / pool.length;
  const a = await runCpu((i) => encodeEvent(pool[i % pool.length]!), ms);
  const hundreds = Array.from({ length: Math.floor(pool.length / 100) }, (_, j) =>
    pool.slice(j * 100, j * 100 + 100),
  );
  const b = await runCpu((i) => encodeEvents(hundreds[i % hundreds.length]!), ms, 1);
  const c = await runCpu((i) => cborEncode(wire[i % wire.length]), ms);
  return {
    bytesPerEvent,
    encodeEvent: rates(a.ops, a),
    encodeEvents100: rates(b.ops * 100, b),
    cborOnly: rates(c.ops, c),
  };
}

/** Events per second in whole records of `batch` events as the writer builds them, no IO. */
export async function recordRate(pool: readonly FsEvent[], batch: number, ms: number): Promise<CpuRate> {
  const meta = {
    fsid: Buffer.alloc(8, 1),
    slot: 0,
    lsn: 1,
    block: 2,
    seq: 2,
    epoch: 1,
    count: batch,
    commitMs: Date.now(),
  };
  const r = await runCpu(
    (i) => {
      const parts = [eventListHead(batch)];
      for (let k = 0; k < batch; k++) parts.push(encodeEvent(pool[(i * batch + k) % pool.length]!));
      encodeRecord(meta, parts);
    },
    ms,
    1,
  );
  return rates(r.ops * batch, r);
}

function rates(count: number, r: { ms: number; cpuMs: number }): CpuRate {
  return { perSec: perSecond(count, r.ms), perCpuSec: perSecond(count, r.cpuMs) };
}

function call(start: (cb: (err: NodeJS.ErrnoException | null) => void) => void): Promise<void> {
  return new Promise((resolve, reject) => start((err) => (err ? reject(err) : resolve())));
}
