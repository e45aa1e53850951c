import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MemoryDevice } from '../../src/device/memory-device.js';
import { LogWriter } from '../../src/events/log-writer.js';
import { LocalSeqAuthority } from '../../src/events/seq-authority.js';
import type { MemoryIndex } from '../../src/lsm/memory-index.js';
import { replayVolume } from '../../src/node/replay.js';
import { project$ } from '../../src/projections/projector.js';
import { loadVolume } from '../../src/volume/volume.js';
import { NamespaceModel } from '../helpers/namespace-model.js';
import { rng } from '../helpers/rng.js';
import { MiB, makeVolume } from '../helpers/volume.js';

function dump(index: MemoryIndex): string[] {
  return [...index.memtable.entries()].map(
    ([k, e]) => `${k.toString('hex')} ${e.seq} ${e.value?.toString('hex') ?? '-'}`,
  );
}

for (const seed of [1, 2, 3]) {
  test(`projections - live equals replay equals a second opening (seed ${seed}, 2000 steps)`, async () => {
    const r = rng(seed);
    const vol = await makeVolume(new MemoryDevice(64 * MiB), { logBlocksPerSlot: 4096 });
    const { index: live, lastSeq } = await replayVolume(vol);
    const writer = await LogWriter.open(vol, 1, new LocalSeqAuthority(lastSeq), { targetTxnBytes: 8000 });
    const model = new NamespaceModel(r);
    let applied = 0;
    let failure: unknown = null;
    const sub = project$(live, writer.committed$).subscribe({
      next: (seq) => {
        applied = seq;
      },
      error: (err) => {
        failure = err;
      },
    });
    for (let i = 0; i < 2000; i++) {
      const batch = Array.from({ length: 1 + r.int(5) }, () => model.step());
      for (const events of batch) await writer.append(events);
      if (r.next() < 0.2) await writer.commit();
    }
    const lastCommitted = await writer.commit();
    while (applied < lastCommitted && !failure) await new Promise((res) => setTimeout(res, 5));
    sub.unsubscribe();
    assert.is(failure, null);

    const replayed = (await replayVolume(vol)).index;
    const second = (await replayVolume(await loadVolume(vol.dev))).index;
    const a = dump(live);
    assert.ok(a.length > 2000, `only ${a.length} items`);
    assert.equal(dump(replayed), a);
    assert.equal(dump(second), a);
  });
}

test.run();
