import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FaultyDevice } from '../../src/device/faulty-device.js';
import { MemoryDevice } from '../../src/device/memory-device.js';
import { Triggers } from '../../src/device/triggers.js';
import { BLOCK_HEADER_BYTES, sealBlock } from '../../src/format/block.js';
import { BLOCK_SIZE } from '../../src/format/layout.js';
import { newest, type PairSpec, readPair, writePair } from '../../src/volume/block-pair.js';
import { MiB } from '../helpers/volume.js';

const fsid = Buffer.from('00112233445566aa', 'hex');
const MAGIC = 0x7e57_7e57;
const spec: PairSpec<{ generation: number; value: number }> = {
  blocks: [10, 11],
  magic: MAGIC,
  fsid,
  what: 'test pair',
  decode: (b) => ({
    generation: b.readUInt32BE(BLOCK_HEADER_BYTES),
    value: b.readUInt32BE(BLOCK_HEADER_BYTES + 4),
  }),
  generation: (v) => v.generation,
};
const encode =
  (value: number, id = fsid) =>
  (generation: number, blkno: number) => {
    const b = Buffer.alloc(BLOCK_SIZE);
    b.writeUInt32BE(generation, BLOCK_HEADER_BYTES);
    b.writeUInt32BE(value, BLOCK_HEADER_BYTES + 4);
    return sealBlock(b, { magic: MAGIC, fsid: id, seq: generation, blkno });
  };

test('block pair - updates alternate copies and the newest sound copy wins', async () => {
  const dev = new MemoryDevice(MiB);
  for (let v = 1; v <= 5; v++) await writePair(dev, spec, encode(v * 10));
  const copies = await readPair(dev, spec);
  assert.equal(
    copies.map((c) => c.value?.generation),
    [5, 4],
  );
  assert.equal(newest(spec, copies), { generation: 5, value: 50 });
});

test('block pair - a torn update at any byte leaves the previous state readable', async () => {
  for (const keep of [1, 8, 32, 100, 4000, 4095]) {
    const mem = new MemoryDevice(MiB);
    await writePair(mem, spec, encode(1));
    await writePair(mem, spec, encode(2));
    const dev = new FaultyDevice(mem, new Triggers().arm('device.write.torn', { keep }));
    await writePair(dev, spec, encode(3)).then(
      () => assert.unreachable(),
      () => {},
    );
    const copies = await readPair(mem, spec);
    const best = newest(spec, copies);
    assert.ok(best && (best.value === 2 || best.value === 3), `keep ${keep}: ${JSON.stringify(best)}`);
  }
});

test('block pair - a copy of another filesystem or another place is not trusted', async () => {
  const dev = new MemoryDevice(MiB);
  await writePair(dev, spec, encode(1));
  await writePair(dev, spec, encode(2, Buffer.alloc(8, 1)));
  const copies = await readPair(dev, spec);
  assert.equal(newest(spec, copies), { generation: 1, value: 1 });
  const moved = new MemoryDevice(MiB);
  await moved.write(10 * BLOCK_SIZE, encode(7)(1, 12));
  assert.match((await readPair(moved, spec))[0]!.problem!, /claims to be block 12/);
  assert.match(copies.find((c) => c.problem)!.problem!, /belongs to filesystem 0101010101010101/);
});

test.run();
