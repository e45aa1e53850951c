/*
 * The contract every BlockDevice keeps, run against every implementation (devices.test.ts).
 */

import type { Test } from 'uvu';
import * as assert from 'uvu/assert';
import type { BlockDevice } from '../../src/device/device.js';
import { FaultyDevice } from '../../src/device/faulty-device.js';
import { Triggers } from '../../src/device/triggers.js';
import { FsError } from '../../src/errors.js';
import { BLOCK_SIZE } from '../../src/format/layout.js';
import { type DeviceWorld, MiB } from '../helpers/volume.js';

const SIZE = 8 * MiB;

async function rejectsWith(p: Promise<unknown>, code: string, message?: RegExp): Promise<void> {
  try {
    await p;
  } catch (err) {
    assert.instance(err, FsError);
    assert.is((err as FsError).code, code);
    if (message) assert.match((err as Error).message, message);
    return;
  }
  assert.unreachable('expected a rejection');
}

export function deviceContract(suite: Test, world: DeviceWorld): void {
  const devs: BlockDevice[] = [];
  const make = async () => {
    const d = await world.create(SIZE);
    devs.push(d);
    return d;
  };
  suite.after.each(async () => {
    for (const d of devs.splice(0)) await d.close().catch(() => {});
  });
  suite.after(() => world.cleanup());

  suite(`${world.name} device - reports its size and reads zeros when new`, async () => {
    const d = await make();
    assert.is(d.size, SIZE);
    assert.ok((await d.read(SIZE - BLOCK_SIZE, BLOCK_SIZE)).every((b) => b === 0));
  });

  suite(`${world.name} device - reads back what was written, at any offset and length`, async () => {
    const d = await make();
    const data = Buffer.from(Array.from({ length: 3 * BLOCK_SIZE + 17 }, (_, i) => (i * 31 + 7) & 0xff));
    for (const at of [0, 1, BLOCK_SIZE - 5, 5 * BLOCK_SIZE, SIZE - data.length]) {
      await d.write(at, data);
      assert.ok((await d.read(at, data.length)).equals(data), `at ${at}`);
    }
  });

  suite(`${world.name} device - a read into a given buffer fills just that many bytes of it`, async () => {
    const d = await make();
    const data = Buffer.from(Array.from({ length: 2 * BLOCK_SIZE }, (_, i) => (i * 13 + 1) & 0xff));
    await d.write(3 * BLOCK_SIZE, data);
    const into = Buffer.alloc(3 * BLOCK_SIZE, 0xee);
    const got = await d.read(3 * BLOCK_SIZE + 100, BLOCK_SIZE, into.subarray(50));
    assert.is(got.length, BLOCK_SIZE);
    assert.ok(got.equals(data.subarray(100, 100 + BLOCK_SIZE)));
    assert.ok(into.subarray(50, 50 + BLOCK_SIZE).equals(got), 'the bytes are in the given buffer');
    assert.ok(
      into.subarray(0, 50).every((b) => b === 0xee),
      'nothing before',
    );
    assert.ok(
      into.subarray(50 + BLOCK_SIZE).every((b) => b === 0xee),
      'nothing after',
    );
  });

  suite(`${world.name} device - concurrent writes to distinct blocks all land`, async () => {
    const d = await make();
    await Promise.all(
      Array.from({ length: 64 }, (_, i) => d.write(i * BLOCK_SIZE, Buffer.alloc(BLOCK_SIZE, i + 1))),
    );
    await d.sync();
    const all = await d.read(0, 64 * BLOCK_SIZE);
    for (let i = 0; i < 64; i++) assert.is(all[i * BLOCK_SIZE + 100], i + 1);
  });

  suite(`${world.name} device - IO outside the device is EIO, not a short read`, async () => {
    const d = await make();
    await rejectsWith(d.read(SIZE - 10, 20), 'EIO', /outside the device/);
    await rejectsWith(d.write(-1, Buffer.alloc(1)), 'EIO');
  });

  suite(`${world.name} device - synced data survives close and reopen`, async () => {
    const d = await make();
    await d.write(BLOCK_SIZE * 9, Buffer.from('durable'));
    await d.sync();
    await d.close();
    const again = world.reopen(d);
    if (!again) return; // memory has no second opening; its durability is tested by powerCut
    const r = await again;
    devs.push(r);
    assert.is((await r.read(BLOCK_SIZE * 9, 7)).toString(), 'durable');
  });

  suite(`${world.name} device - injected EIO hits only the chosen block`, async () => {
    const t = new Triggers().arm('device.read.eio', { block: 3 }).arm('device.write.eio', { block: 5 });
    const d = new FaultyDevice(await make(), t);
    await rejectsWith(d.read(3 * BLOCK_SIZE + 10, 1), 'EIO', /block 3/);
    await rejectsWith(d.read(0, 4 * BLOCK_SIZE), 'EIO', /block 3/);
    await rejectsWith(d.write(5 * BLOCK_SIZE, Buffer.alloc(BLOCK_SIZE)), 'EIO', /block 5/);
    await d.read(4 * BLOCK_SIZE, BLOCK_SIZE);
    await d.write(6 * BLOCK_SIZE, Buffer.alloc(BLOCK_SIZE, 1));
    t.disarm('device.read.eio');
    await d.read(3 * BLOCK_SIZE, BLOCK_SIZE);
  });

  suite(`${world.name} device - a torn write stores only its prefix and kills the device`, async () => {
    const inner = await make();
    let died = '';
    const d = new FaultyDevice(
      inner,
      new Triggers().arm('device.write.torn', { after: 1, keep: 100 }),
      (why) => {
        died = why;
      },
    );
    await d.write(0, Buffer.alloc(BLOCK_SIZE, 1));
    await rejectsWith(d.write(BLOCK_SIZE, Buffer.alloc(BLOCK_SIZE, 2)), 'EIO', /torn write/);
    assert.match(died, /100 of 4096/);
    await rejectsWith(d.read(0, 1), 'EIO', /dead/);
    const after = await inner.read(BLOCK_SIZE, BLOCK_SIZE);
    assert.is(after[99], 2);
    assert.is(after[100], 0);
  });

  suite(`${world.name} device - a crash before sync kills the device at the sync`, async () => {
    const d = new FaultyDevice(await make(), new Triggers().arm('device.sync.crash'));
    await d.write(0, Buffer.alloc(10, 1));
    await rejectsWith(d.sync(), 'EIO', /crash before sync/);
    await rejectsWith(d.write(0, Buffer.alloc(1)), 'EIO', /dead/);
  });
}
