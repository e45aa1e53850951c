import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { MemoryDevice } from '../../src/device/memory-device.js';
import type { FsEvent } from '../../src/events/event.js';
import { LocalSeqAuthority } from '../../src/events/seq-authority.js';
import { loadVolume } from '../../src/volume/volume.js';
import { rng } from '../helpers/rng.js';
import { allWorlds, MiB, makeVolume } from '../helpers/volume.js';
import { assertOpsPresent, logContract, openWriter, ops, readSlot } from './log-contract.js';

for (const world of allWorlds()) {
  const s = suite(`${world.name} log`);
  logContract(s, world);
  s.run();
}

const power = suite('log power cut');

power('log - after a power cut at any moment, every acknowledged transaction survives whole', async () => {
  const seed = 1234;
  const r = rng(seed);
  let vol = await makeVolume(new MemoryDevice(64 * MiB));
  const durable: { seq: number; events: FsEvent[] }[] = [];
  const appended = new Map<number, FsEvent[][]>();
  let n = 0;
  let cutsWithWorkInFlight = 0;
  for (let round = 0; round < 60; round++) {
    const w = await openWriter(vol);
    const acked: { seq: number; events: FsEvent[] }[] = [];
    const inflight = Array.from({ length: 1 + r.int(12) }, async () => {
      const events = ops(n++, 1, 1 + r.int(4))[0]!;
      const seq = await w.append(events);
      appended.set(seq, [...(appended.get(seq) ?? []), events]);
      await w.commit();
      acked.push({ seq, events });
    });
    // cut the power after a random number of steps of the event loop: sometimes before any
    // write, sometimes between a write and its sync, sometimes after everything
    for (let i = r.int(12); i > 0; i--)
      await (r.next() < 0.1 ? new Promise(setImmediate) : Promise.resolve());
    const cut = (vol.dev as MemoryDevice).powerCut(() => r.next());
    if (acked.length < inflight.length) cutsWithWorkInFlight++;
    durable.push(...acked);
    await Promise.allSettled(inflight);
    vol = await loadVolume(cut);
    const txns = await readSlot(vol, 1);
    assertOpsPresent(txns, durable);
    for (const t of txns) {
      assert.ok(
        isWholeOps(t.events, appended.get(t.seq) ?? []),
        `seed ${seed}: transaction ${t.seq} is partial`,
      );
    }
  }
  assert.ok(cutsWithWorkInFlight > 15, `only ${cutsWithWorkInFlight} cuts hit work in flight`);
});

/** Whether `events` is exactly the concatenation of some of `ops`, in append order. */
function isWholeOps(events: FsEvent[], ops: FsEvent[][]): boolean {
  const wanted = JSON.stringify(events);
  let chosen: FsEvent[] = [];
  for (const op of ops) {
    const next = [...chosen, ...op];
    if (wanted.startsWith(JSON.stringify(next).slice(0, -1))) chosen = next;
  }
  return JSON.stringify(chosen) === wanted;
}

power('seq authority - stable seq stays below the oldest open transaction', async () => {
  const a = new LocalSeqAuthority(10);
  const s1 = await a.openSeq();
  const s2 = await a.openSeq();
  assert.equal([s1, s2, a.stableSeq()], [11, 12, 10]);
  a.closeSeq(s2);
  assert.is(a.stableSeq(), 10);
  a.closeSeq(s1);
  assert.is(a.stableSeq(), 12);
});

power.run();
