/*
 * The contract of a node's log, run against every device implementation (log.test.ts).
 */

import type { Test } from 'uvu';
import * as assert from 'uvu/assert';
import type { BlockDevice } from '../../src/device/device.js';
import { writeBlocks } from '../../src/device/device.js';
import { FaultyDevice } from '../../src/device/faulty-device.js';
import { Triggers } from '../../src/device/triggers.js';
import { FsError } from '../../src/errors.js';
import type { FsEvent, Transaction } from '../../src/events/event.js';
import { follow$ } from '../../src/events/follow.js';
import { LogCursor } from '../../src/events/log-cursor.js';
import { LogWriter } from '../../src/events/log-writer.js';
import { LocalSeqAuthority } from '../../src/events/seq-authority.js';
import { cborEncode } from '../../src/format/cbor.js';
import { slotStart } from '../../src/format/layout.js';
import { encodeRecord } from '../../src/format/record.js';
import { loadVolume, type Volume } from '../../src/volume/volume.js';
import { type DeviceWorld, MiB, makeVolume, sampleEvent } from '../helpers/volume.js';

const SIZE = 64 * MiB;

export const ops = (from: number, n: number, per = 3): FsEvent[][] =>
  Array.from({ length: n }, (_, i) =>
    Array.from({ length: per }, (_, j) => sampleEvent((from + i) * per + j)),
  );

export async function readSlot(vol: Volume, slot: number): Promise<Transaction[]> {
  return (await LogCursor.atTail(vol, slot)).readAll();
}

/** Last committed seq over every slot, as a mount finds it. */
export async function lastSeq(vol: Volume): Promise<number> {
  let last = 0;
  for (let s = 0; s < vol.sb.logSlots; s++) {
    for (const t of await readSlot(vol, s)) last = Math.max(last, t.seq);
  }
  return last;
}

export const openWriter = async (vol: Volume, slot = 1, o = {}) =>
  LogWriter.open(vol, slot, new LocalSeqAuthority(await lastSeq(vol)), o);

/** Assert each op's events appear, contiguous and in order, in the transaction of its seq. */
export function assertOpsPresent(txns: Transaction[], acked: { seq: number; events: FsEvent[] }[]): void {
  const bySeq = new Map(txns.map((t) => [t.seq, t]));
  for (const op of acked) {
    const t = bySeq.get(op.seq);
    assert.ok(t, `transaction ${op.seq} missing`);
    const flat = JSON.stringify(t.events);
    assert.ok(flat.includes(JSON.stringify(op.events).slice(1, -1)), `op of seq ${op.seq} not intact`);
  }
}

export function logContract(suite: Test, world: DeviceWorld): void {
  const devs: BlockDevice[] = [];
  const fresh = async (logBlocksPerSlot = 1024) => {
    const dev = await world.create(SIZE);
    devs.push(dev);
    return makeVolume(dev, { logBlocksPerSlot });
  };
  suite.after.each(async () => {
    for (const d of devs.splice(0)) await d.close().catch(() => {});
  });
  suite.after(() => world.cleanup());

  suite(`${world.name} log - reads back committed transactions in order, events intact`, async () => {
    const vol = await fresh();
    const w = await openWriter(vol);
    const acked = [];
    for (const events of ops(0, 20)) {
      const seq = await w.append(events);
      await w.commit();
      acked.push({ seq, events });
    }
    const txns = await readSlot(vol, 1);
    assert.is(txns.length, 20);
    assert.equal(
      txns.map((t) => t.events),
      acked.map((a) => a.events),
    );
    assert.ok(txns.every((t, i) => i === 0 || t.seq > txns[i - 1]!.seq));
    assert.is(txns[0]!.seq, 2, 'seq 1 is the root directory mkfs wrote in slot 0');
  });

  suite(`${world.name} log - concurrent operations share transactions (group commit)`, async () => {
    const vol = await fresh();
    const w = await openWriter(vol);
    const all = ops(0, 300, 2);
    const acked = await Promise.all(
      all.map(async (events) => {
        const seq = await w.append(events);
        await w.commit();
        return { seq, events };
      }),
    );
    const txns = await readSlot(vol, 1);
    assert.ok(txns.length < 300 / 4, `${txns.length} transactions for 300 concurrent operations`);
    assert.is(
      txns.reduce((n, t) => n + t.events.length, 0),
      600,
    );
    assertOpsPresent(txns, acked);
  });

  suite(`${world.name} log - transactions are sealed at the target size, never inside an operation`, async () => {
    const vol = await fresh();
    const w = await openWriter(vol, 1, { targetTxnBytes: 2000 });
    const acked = [];
    for (const events of ops(0, 60, 5)) acked.push({ seq: await w.append(events), events });
    await w.commit();
    const txns = await readSlot(vol, 1);
    assert.ok(txns.length > 5, `only ${txns.length} transactions`);
    for (const t of txns) assert.is(t.events.length % 5, 0);
    assertOpsPresent(txns, acked);
  });

  suite(`${world.name} log - an operation too large for one record is refused with EFBIG`, async () => {
    const vol = await fresh();
    const w = await openWriter(vol);
    const huge: FsEvent[] = Array.from({ length: 10 }, (_, i) => ({
      type: 'XattrSet',
      ino: 5,
      name: Buffer.from(`user.${i}`),
      value: Buffer.alloc(65536),
      ctime: { sec: 0, nsec: 0 },
    }));
    try {
      await w.append(huge);
      assert.unreachable();
    } catch (err) {
      assert.is((err as FsError).code, 'EFBIG');
    }
    await w.append(ops(0, 1)[0]!);
    await w.commit();
    assert.is((await readSlot(vol, 1)).length, 1);
  });

  suite(`${world.name} log - wraps around its region after a trim and reads across the wrap`, async () => {
    const vol = await fresh(300);
    const w = await openWriter(vol, 1, { targetTxnBytes: 6000 });
    let n = 0;
    const appendBatch = async (count: number) => {
      for (const events of ops(n, count, 8)) await w.append(events);
      n += count;
      await w.commit();
    };
    while (w.position.usedBlocks < 200) await appendBatch(50);
    const before = await readSlot(vol, 1);
    const cursor = await LogCursor.atTail(vol, 1);
    for (let i = 0; i < 60; i++) await cursor.next();
    const trimTo = cursor.position;
    await w.trim(trimTo);
    const firstNew = n;
    await appendBatch(800);
    assert.ok(w.position.block < trimTo.block, 'did not wrap');
    const txns = await readSlot(vol, 1);
    assert.is(txns[0]!.lsn, trimTo.lsn);
    assert.ok(txns.every((t, i) => i === 0 || t.lsn === txns[i - 1]!.lsn + 1));
    const expected = [...before.slice(60).flatMap((t) => t.events), ...ops(firstNew, 800, 8).flat()];
    assert.equal(
      txns.flatMap((t) => t.events),
      expected,
    );
    const again = await openWriter(vol);
    assert.equal(again.position.lsn, w.position.lsn);
    assert.equal(again.position.block, w.position.block);
  });

  suite(`${world.name} log - a full log is ENOSPC, and what was committed stays readable`, async () => {
    const vol = await fresh(300);
    const w = await openWriter(vol, 1, { targetTxnBytes: 6000 });
    let committed = 0;
    let error: unknown;
    try {
      for (const events of ops(0, 2000, 8)) {
        await w.append(events);
        await w.commit();
        committed++;
      }
    } catch (err) {
      error = err;
    }
    assert.instance(error, FsError);
    assert.is((error as FsError).code, 'ENOSPC');
    assert.match((error as Error).message, /log slot 1 is full/);
    assert.is((await readSlot(vol, 1)).length, committed);
  });

  suite(`${world.name} log - a torn write loses only the unacknowledged transaction`, async () => {
    for (const keep of [1, 61, 4095, 4097, 6000]) {
      const vol = await fresh();
      const w0 = await openWriter(vol);
      const acked = [];
      for (const events of ops(0, 5, 30)) {
        acked.push({ seq: await w0.append(events), events });
        await w0.commit();
      }
      const triggers = new Triggers();
      const faulty = await loadVolume(new FaultyDevice(vol.dev, triggers));
      const w1 = await openWriter(faulty);
      triggers.arm('device.write.torn', { keep });
      const unacked = ops(5, 1, 60)[0]!;
      await w1.append(unacked);
      await w1.commit().then(
        () => assert.unreachable('a torn commit resolved'),
        (err: FsError) => assert.is(err.code, 'EIO'),
      );
      const txns = await readSlot(vol, 1);
      const ackedEvents = acked.map((a) => a.events);
      // a tear that only lost padding leaves the unacknowledged record whole, which is fine;
      // what must never happen is a lost acknowledged record or a partial one
      const whole = txns.length === 6;
      assert.equal(
        txns.map((t) => t.events),
        whole ? [...ackedEvents, unacked] : ackedEvents,
        `keep ${keep}`,
      );
      const w2 = await openWriter(vol);
      const seq = await w2.append(ops(6, 1)[0]!);
      await w2.commit();
      const after = await readSlot(vol, 1);
      assert.is(after.length, whole ? 7 : 6);
      assert.is(after.at(-1)!.seq, seq);
    }
  });

  suite(`${world.name} log - a record stranded beyond a lost one never comes back after the hole is refilled`, async () => {
    const vol = await fresh();
    const w0 = await openWriter(vol);
    await w0.append(ops(0, 1)[0]!);
    await w0.commit();
    const a = w0.position;
    // one batch writes A (two blocks) and B; the power cut keeps B but loses A's first block
    const pending = [w0.append(ops(1, 1, 70)[0]!), w0.commit()];
    await Promise.all(pending);
    await w0.append(ops(2, 1)[0]!);
    await w0.commit();
    await writeBlocks(vol.dev, slotStart(vol.sb, 1) + a.block, Buffer.alloc(4096));
    assert.is((await readSlot(vol, 1)).length, 1);
    // a new writer fills the hole with a record of the same size: B must stay dead
    const w1 = await openWriter(vol);
    const seq = await w1.append(ops(3, 1, 70)[0]!);
    await w1.commit();
    const txns = await readSlot(vol, 1);
    assert.equal(
      txns.map((t) => t.seq),
      [txns[0]!.seq, seq],
    );
    assert.equal(txns[1]!.events, ops(3, 1, 70)[0]);
  });

  suite(`${world.name} log - a record with a good crc but malformed events is EIO naming it`, async () => {
    const vol = await fresh();
    const w = await openWriter(vol);
    await w.append(ops(0, 1)[0]!);
    await w.commit();
    const pos = w.position;
    const bad = encodeRecord(
      {
        fsid: vol.sb.fsid,
        slot: 1,
        lsn: pos.lsn,
        block: pos.block,
        seq: pos.seq + 1,
        epoch: w.epoch,
        count: 1,
        commitMs: 0,
      },
      [cborEncode([[2, 'not an inode']])],
    );
    await writeBlocks(vol.dev, slotStart(vol.sb, 1) + pos.block, bad);
    try {
      await readSlot(vol, 1);
      assert.unreachable();
    } catch (err) {
      assert.is((err as FsError).code, 'EIO');
      assert.match((err as Error).message, new RegExp(`log slot 1 lsn ${pos.lsn}`));
    }
  });

  suite(`${world.name} log - follow$ emits transactions committed after it started`, async () => {
    const vol = await fresh();
    const w = await openWriter(vol);
    await w.append(ops(0, 1)[0]!);
    await w.commit();
    const seen: number[] = [];
    const sub = follow$(await LogCursor.atTail(vol, 1), 20).subscribe((t) => seen.push(t.seq));
    const seqs = [];
    for (const events of ops(1, 3)) {
      seqs.push(await w.append(events));
      await w.commit();
    }
    for (let i = 0; i < 100 && seen.length < 4; i++) await new Promise((r) => setTimeout(r, 20));
    sub.unsubscribe();
    assert.is(seen.length, 4);
    assert.equal(seen.slice(1), seqs);
  });
}
