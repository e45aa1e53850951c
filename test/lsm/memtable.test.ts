/*
 * The memtable's order: with puts and scans interleaved, every scan and the flush's walk see
 * all keys in byte order, with the newest value, tombstones included.
 */

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Memtable } from '../../src/lsm/memtable.js';

const hex = (b: Buffer) => b.toString('hex');

function seeded(seed: number) {
  let x = seed >>> 0;
  return () => {
    x = (x * 1664525 + 1013904223) >>> 0;
    return x;
  };
}

test('memtable - scans interleaved with puts see every key in byte order, the newest value', () => {
  const rnd = seeded(7);
  const m = new Memtable();
  const model = new Map<string, Buffer | null>();
  for (let round = 0; round < 50; round++) {
    for (let i = 0; i < 200; i++) {
      // keys with long shared prefixes and bytes above 0x7f, as item keys have
      const key = Buffer.from([3, 0, 0, 0, rnd() % 4, 0x80 + (rnd() % 3), rnd() % 256, rnd() % 256]);
      const value = rnd() % 5 === 0 ? null : Buffer.from([round, i & 0xff]);
      m.put(key, round, value);
      model.set(hex(key), value);
    }
    const lo = Buffer.from([3, 0, 0, 0, rnd() % 4]);
    const hi = Buffer.from([3, 0, 0, 0, rnd() % 4, 0xff]);
    const want = [...model.keys()].filter((k) => k >= hex(lo) && k <= hex(hi)).sort();
    const got = [...m.range(lo, hi)];
    assert.equal(
      got.map(([k]) => hex(k)),
      want,
      `round ${round}`,
    );
    for (const [k, e] of got) assert.equal(e.value, model.get(hex(k)), `value of ${hex(k)}`);
  }
  const all = [...m.entries()].map(([k]) => hex(k));
  assert.equal(all, [...model.keys()].sort(), 'the flush walks every key in order');
  assert.is(m.size, model.size);
});

test.run();
