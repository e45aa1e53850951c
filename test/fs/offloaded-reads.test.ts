/*
 * Reads handed off to another reader (the FUSE binding's threads, patch 6): the plan a read
 * answers with reads back as the file's bytes when its pieces are read from the device's
 * descriptor, as the binding does; and blocks a handed-off read may still be reading are not
 * handed out again, even after the transaction that freed them is durable, until the reader
 * says the read is over.
 */

import { readSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { OffloadedReads } from '../../src/fs/offloaded-reads.js';
import { withScratchNode } from '../helpers/volume.js';

const WHO = { uid: 0, gid: 0 };
const KiB = 1024;

/** A reader that counts reads in flight by epoch parity as the binding does; the test ends them. */
function fakeReader() {
  const state = { failed: 0, lastErrno: 0, epoch: 0, inFlight: [0, 0] as [number, number], gen: 0 };
  const lines: string[] = [];
  const reads = new OffloadedReads(
    {
      status: () => ({ failed: state.failed, lastErrno: state.lastErrno, inFlight: [...state.inFlight] }),
      enter: () => {
        const p = state.epoch & 1;
        state.inFlight[p] = (state.inFlight[p] ?? 0) + 1;
        return p;
      },
      flip: () => state.epoch++ & 1,
      setGeneration: (g) => {
        state.gen = g;
      },
    },
    (l) => lines.push(l),
  );
  /** A read over: it leaves the epoch it entered. */
  const leave = (parity: number) => {
    state.inFlight[parity] = (state.inFlight[parity] ?? 0) - 1;
  };
  return { state, lines, reads, leave };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What the binding does with a plan: pread each piece into the buffer. */
function readPieces(fd: number, into: Buffer, pieces: Float64Array): void {
  for (let i = 0; i < pieces.length; i += 3) {
    const [at, dev, len] = [pieces[i]!, pieces[i + 1]!, pieces[i + 2]!];
    assert.is(readSync(fd, into, at, len, dev), len, 'the piece is inside the device');
  }
}

test('offloaded reads - work waits for the reads in flight before it, not for later ones', async () => {
  const { state, lines, reads, leave } = fakeReader();
  const ran: string[] = [];
  reads.afterInFlight(() => ran.push('none in flight'));
  assert.equal(ran, ['none in flight'], 'nothing in flight: at once');

  const a = reads.handOff();
  const b = reads.handOff();
  reads.afterInFlight(() => ran.push('after a and b'));
  const c = reads.handOff(); // entered the next epoch: not waited for
  reads.afterInFlight(() => ran.push('after c'));
  assert.is(reads.inFlight, 3);
  await sleep(10);
  assert.equal(ran, ['none in flight'], 'waits while they are in flight');
  leave(c);
  leave(a);
  await sleep(10);
  assert.equal(ran, ['none in flight'], 'b is still in flight: a later read ending does not count');
  const d = reads.handOff();
  leave(b);
  await sleep(10);
  assert.equal(ran, ['none in flight', 'after a and b'], 'a and b are over');
  // what waits for c waits from the grace period after a and b's: d, in flight then, too
  leave(d);
  await sleep(10);
  assert.equal(ran, ['none in flight', 'after a and b', 'after c']);
  const e = reads.handOff();
  assert.is(await reads.drain(20), false, 'a drain gives up while a read is in flight');
  leave(e);
  assert.is(await reads.drain(1000), true);

  assert.equal(lines, []);
  state.failed = 1;
  state.lastErrno = 5;
  leave(reads.handOff());
  assert.is(lines.length, 1, 'a failure is told at the next hand-off');
  assert.match(lines[0]!, /device read failed.*errno 5/);
  leave(reads.handOff());
  assert.is(lines.length, 1, 'once');

  // every change moves the reader to a new generation
  const g = reads.generation;
  reads.changed();
  assert.is(state.gen, g + 1);
  assert.is(reads.generation, g + 1);

  // closing: no read handed off any more, the ones in flight waited for, windows dropped
  const f = reads.handOff();
  assert.is(await reads.close(20), false, 'f is still in flight');
  assert.is(state.gen, g + 2, 'windows are no longer current');
  assert.throws(() => reads.handOff(), /closing/, 'no read is handed off once closing');
  leave(f);
  assert.is(await reads.close(1000), true);
  assert.is(reads.inFlight, 0);
});

test('offloaded reads - a plan read from the descriptor is the file: extents, holes, tail', async () => {
  await withScratchNode(async (node) => {
    const fs = node.fs;
    const fd = fs.deviceDescriptor;
    assert.ok(fd !== undefined, 'a file device has a descriptor');
    const ino = await fs.create('/f', 0o100644, WHO);
    await fs.write(ino, 1 * KiB, Buffer.alloc(9 * KiB, 0x11)); // blocks 0-2, partly
    await fs.write(ino, 40 * KiB, Buffer.alloc(8 * KiB, 0x22)); // blocks 10-11
    await fs.truncate(ino, 60 * KiB); // a hole after
    const want = await fs.read(ino, 0, 128 * KiB);
    const { reads, leave } = fakeReader();
    fs.handsOffReads(reads);
    for (const [offset, length] of [
      [0, 128 * KiB],
      [500, 41 * KiB],
      [12 * KiB, 20 * KiB],
      [59 * KiB, 4 * KiB],
    ] as const) {
      const into = Buffer.alloc(length, 0xee);
      const plan = await fs.readPlan(ino, offset, length, into, 64);
      const end = Math.min(60 * KiB, offset + length);
      assert.is(plan.bytes, end - offset, `bytes at ${offset}`);
      if (plan.pieces) {
        readPieces(fd!, into, plan.pieces);
        leave(plan.epoch);
      }
      assert.equal(into.subarray(0, plan.bytes), want.subarray(offset, end), `bytes at ${offset}+${length}`);
    }
    assert.is(reads.inFlight, 0, 'every read handed off left');

    // more pieces than the answer may carry: read here, nothing handed off
    const many = await fs.create('/many', 0o100644, WHO);
    for (let b = 0; b < 8; b++) await fs.write(many, b * 8 * KiB, Buffer.alloc(KiB, b + 1));
    const into = Buffer.alloc(64 * KiB, 0xee);
    const plan = await fs.readPlan(many, 0, 64 * KiB, into, 4);
    assert.is(plan.pieces, null);
    assert.is(plan.epoch, -1, 'not handed off');
    assert.equal(into.subarray(0, plan.bytes), await fs.read(many, 0, 64 * KiB));
    assert.is(reads.inFlight, 0);
  });
});

test('offloaded reads - freed blocks stay unused until the reads handed off before are over', async () => {
  await withScratchNode(async (node) => {
    const fs = node.fs;
    const { reads, leave } = fakeReader();
    fs.handsOffReads(reads);
    const ino = await fs.create('/f', 0o100644, WHO);
    await fs.write(ino, 0, Buffer.alloc(64 * KiB, 0x33));
    await fs.commit();
    const plan = await fs.readPlan(ino, 0, 64 * KiB, Buffer.alloc(64 * KiB), 64);
    assert.ok(plan.pieces, 'handed off');
    const before = (await fs.usage()).freeBlocks;
    await fs.unlink('/f');
    await fs.commit();
    await sleep(20);
    assert.is((await fs.usage()).freeBlocks, before, 'durable, but a read may still be on them');
    leave(plan.epoch);
    await sleep(20);
    assert.is((await fs.usage()).freeBlocks, before + 16, 'free once the read is over');

    // nothing in flight: free as soon as the transaction is durable
    const g = await fs.create('/g', 0o100644, WHO);
    await fs.write(g, 0, Buffer.alloc(16 * KiB, 0x44));
    await fs.commit();
    const full = (await fs.usage()).freeBlocks;
    await fs.unlink('/g');
    await fs.commit();
    assert.is((await fs.usage()).freeBlocks, full + 4);
  });
});

test.run();
