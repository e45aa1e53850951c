import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MemoryDevice } from '../../src/device/memory-device.js';
import { cborEncode } from '../../src/format/cbor.js';
import type { RunEntry } from '../../src/format/run-unit.js';
import { Allocator } from '../../src/lsm/allocator.js';
import { RunReader, writeRun } from '../../src/lsm/run.js';
import { RunIndex, RunIndexBuilder } from '../../src/lsm/run-index.js';
import { UnitCache } from '../../src/lsm/unit-cache.js';
import { MiB } from '../helpers/volume.js';

const fsid = Buffer.alloc(8, 3);
const entries = (n: number, valueBytes: number): RunEntry[] =>
  Array.from({ length: n }, (_, i) => ({
    key: Buffer.from(`key-${String(i).padStart(6, '0')}`),
    seq: i + 1,
    value: i % 7 === 3 ? null : Buffer.alloc(valueBytes, i & 0xff),
  }));

async function roundTrip(list: RunEntry[], payloadBytes: number) {
  const dev = new MemoryDevice(64 * MiB);
  const alloc = new Allocator(100, 16000, []);
  const before = alloc.freeBlocks;
  const meta = await writeRun({ dev, fsid, alloc }, 9, () => list, list.length, payloadBytes);
  assert.is(alloc.freeBlocks, before - meta.blocks, 'only the blocks the run uses stay allocated');
  const reader = await RunReader.open(dev, fsid, meta, new UnitCache(MiB));
  const back: RunEntry[] = [];
  for await (const e of reader.range(Buffer.alloc(0), Buffer.alloc(64, 0xff))) back.push(e);
  assert.equal(back, list);
  const streamed: RunEntry[] = [];
  for await (const e of reader.stream()) streamed.push(e);
  assert.equal(streamed, list, 'the merge stream gives the same entries');
  for (const e of [list[0]!, list[list.length >> 1]!, list.at(-1)!]) assert.equal(await reader.get(e.key), e);
  assert.is(await reader.get(Buffer.from('key-x')), undefined);
  return meta;
}

test('run - small entries pack into about their size and read back in order', async () => {
  const list = entries(5000, 40);
  const payload = list.reduce((n, e) => n + e.key.length + (e.value?.length ?? 0), 0);
  const meta = await roundTrip(list, payload);
  assert.ok(meta.blocks < (payload * 1.3) / 4096 + 10, `${meta.blocks} blocks for ${payload} bytes`);
});

test('run - entries that pack badly outgrow the first reservation and are written again', async () => {
  // each entry is just over half a unit, so every unit holds one and is half empty
  const list = entries(300, 2100);
  const payload = list.reduce((n, e) => n + e.key.length + (e.value?.length ?? 0), 0);
  await roundTrip(list, payload);
});

test('run - an entry bigger than a block gets a unit of its own size', async () => {
  await roundTrip(entries(20, 70000), 20 * 70010);
});

test('run index - packed, it encodes exactly as the CBOR array of [first key, block, blocks]', () => {
  // key lengths across every CBOR length form, block numbers across every uint form
  const lengths = [0, 1, 23, 24, 255, 256, 300];
  const blockNos = [0, 23, 24, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, 2 ** 40 + 7];
  const units = blockNos.flatMap((block, i) =>
    lengths.map((n, j) => ({ first: Buffer.alloc(n, i * 16 + j), block: block + j, blocks: (j % 3) + 1 })),
  );
  const b = new RunIndexBuilder();
  for (const x of units) b.push(x.first, x.block, x.blocks);
  const index = b.finish();
  const bytes = index.encode();
  assert.ok(bytes.equals(cborEncode(units.map((x) => [x.first, x.block, x.blocks]))));
  const back = RunIndex.decode(bytes, 'index');
  assert.is(back.length, units.length);
  for (let u = 0; u < units.length; u++) {
    assert.is(back.block(u), units[u]!.block);
    assert.is(back.size(u), units[u]!.blocks);
    assert.is(back.compareFirst(u, units[u]!.first), 0);
  }
});

test('run index - unitFor finds the last unit whose first key is not above the key', () => {
  const b = new RunIndexBuilder();
  for (const [i, k] of ['b', 'd', 'dd', 'f'].entries()) b.push(Buffer.from(k), 10 + i, 1);
  const index = b.finish();
  const at = (k: string) => index.unitFor(Buffer.from(k));
  assert.equal(['a', 'b', 'c', 'd', 'da', 'dd', 'e', 'f', 'z'].map(at), [-1, 0, 0, 1, 1, 2, 2, 3, 3]);
  const good = index.encode();
  for (const [bytes, why] of [
    [good.subarray(0, good.length - 1), /truncated/],
    [cborEncode([[Buffer.from('a'), 1]]), /not \[first key, block, blocks\]/],
    [cborEncode([['a', 1, 1]]), /major type 3/],
    [cborEncode([[Buffer.from('a'), 1, 0]]), /a unit of no blocks/],
    [cborEncode([[Buffer.from('a'), -1, 1]]), /major type 1/],
  ] as const) {
    assert.throws(
      () => RunIndex.decode(bytes, 'run 3 index'),
      (e: Error) => /run 3 index is malformed/.test(e.message) && why.test(e.message),
    );
  }
});

test.run();
