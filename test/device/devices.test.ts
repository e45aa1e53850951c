import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { openFileDevice } from '../../src/device/file-device.js';
import { MemoryDevice } from '../../src/device/memory-device.js';
import { Triggers } from '../../src/device/triggers.js';
import { FsError } from '../../src/errors.js';
import { rng } from '../helpers/rng.js';
import { allWorlds, loopWorld, MiB } from '../helpers/volume.js';
import { deviceContract } from './device-contract.js';

for (const world of allWorlds()) {
  const s = suite(`${world.name} device`);
  deviceContract(s, world);
  s.run();
}

const memory = suite('memory device');

memory('memory device - a power cut keeps what was synced and tears or drops the rest', async () => {
  const r = rng(7);
  let kept = 0;
  let dropped = 0;
  let torn = 0;
  for (let round = 0; round < 200; round++) {
    const d = new MemoryDevice(MiB);
    await d.write(0, Buffer.alloc(4096, 1));
    await d.sync();
    await d.write(8192, Buffer.alloc(4096, 2));
    const cut = d.powerCut(() => r.next());
    assert.ok(
      (await cut.read(0, 4096)).every((b) => b === 1),
      'synced data lost',
    );
    const after = await cut.read(8192, 4096);
    const n = after.indexOf(0) === -1 ? 4096 : after.indexOf(0);
    assert.ok(after.subarray(0, n).every((b) => b === 2) && after.subarray(n).every((b) => b === 0));
    if (n === 4096) kept++;
    else if (n === 0) dropped++;
    else torn++;
  }
  assert.ok(kept > 20 && dropped > 20 && torn > 20, `kept ${kept} dropped ${dropped} torn ${torn}`);
});

memory('triggers - parse the environment form and count down one-shot faults', () => {
  const t = Triggers.parse('device.write.torn:after=2,keep=100;device.read.eio:block=9');
  assert.equal(t.params('device.read.eio'), { block: 9 });
  assert.is(t.countdown('device.write.torn'), undefined);
  assert.is(t.countdown('device.write.torn'), undefined);
  assert.equal(t.countdown('device.write.torn'), { after: 0, keep: 100 });
  assert.is(t.countdown('device.write.torn'), undefined);
  assert.throws(() => Triggers.parse('device.nope'), /unknown trigger/);
  assert.throws(() => Triggers.parse('device.read.eio:block=x'), /bad parameter/);
  assert.not.ok(Triggers.parse(undefined).any);
});

memory.run();

const exclusive = suite('block device claim');

exclusive('block device - one writer at a time (EBUSY for a second), readers any time', async () => {
  const world = loopWorld();
  if (!world) return; // no root or no losetup: nothing to claim
  try {
    const first = await world.create(MiB);
    let second: unknown = null;
    try {
      await world.reopen(first);
    } catch (err) {
      second = err;
    }
    assert.instance(second, FsError, 'a second writer is refused');
    assert.is((second as FsError).code, 'EBUSY');
    assert.match((second as FsError).message, /is in use: another process holds it open for writing/);
    const reader = await openFileDevice(first.name, { readOnly: true });
    assert.is((await reader.read(0, 4096)).length, 4096, 'a reader opens it while it is claimed');
    await reader.close();
    await first.close();
    const again = await world.reopen(first);
    await again?.close();
    assert.ok(again, 'a writer again once the first let go');
  } finally {
    world.cleanup();
  }
});

exclusive.run();
