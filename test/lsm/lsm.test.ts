import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { BlockDevice } from '../../src/device/device.js';
import { MemoryDevice } from '../../src/device/memory-device.js';
import { FsError } from '../../src/errors.js';
import { LogWriter } from '../../src/events/log-writer.js';
import { LocalSeqAuthority } from '../../src/events/seq-authority.js';
import { ALL_KEYS, type Lsm } from '../../src/lsm/lsm.js';
import { replayVolume } from '../../src/node/replay.js';
import { Store } from '../../src/node/store.js';
import { loadVolume, type Volume } from '../../src/volume/volume.js';
import { NamespaceModel } from '../helpers/namespace-model.js';
import { rng } from '../helpers/rng.js';
import { MiB, makeVolume } from '../helpers/volume.js';

async function lsmDump(lsm: Lsm): Promise<string[]> {
  const out: string[] = [];
  for await (const [k, v] of lsm.scan(ALL_KEYS)) out.push(`${k.toString('hex')} ${v.toString('hex')}`);
  return out;
}

async function replayDump(vol: Volume): Promise<string[]> {
  const { index } = await replayVolume(vol);
  return [...index.scan(ALL_KEYS)].map(([k, v]) => `${k.toString('hex')} ${v.toString('hex')}`);
}

/** Run `steps` random operations through a writer and a store with a tiny memtable. */
async function history(vol: Volume, seed: number, steps: number, memtableBytes = 64 * 1024) {
  const r = rng(seed);
  const store = await Store.open(vol, { memtableBytes });
  const writer = await LogWriter.open(vol, 1, new LocalSeqAuthority(store.lastSeq), {
    targetTxnBytes: 16000,
  });
  const applying: Promise<void>[] = [];
  writer.committed$.subscribe((t) => applying.push(store.apply(t)));
  const model = new NamespaceModel(r);
  for (let i = 0; i < steps; i++) {
    await writer.append(model.step());
    if (r.next() < 0.1) await writer.commit();
  }
  await writer.commit();
  await Promise.all(applying);
  return { store, writer };
}

test('lsm - peek and keysInNow answer from cached run units as get and keysIn do, or not at all', async () => {
  const vol = await makeVolume(new MemoryDevice(256 * MiB), { logBlocksPerSlot: 16384 });
  const { store, writer } = await history(vol, 11, 1500, 32 * 1024);
  await store.checkpoint([writer]);
  await store.close();
  const lsm = store.lsm;
  assert.ok(lsm.manifest.runs.length > 0, 'items in runs');
  const items = (await lsm.collect(ALL_KEYS)).map(([k]) => k);
  let answered = 0;
  for (const [i, key] of items.entries()) {
    if (i % 7 !== 0) continue;
    const value = await lsm.get(key);
    const now = lsm.peek(key);
    assert.ok(now !== undefined, 'the unit get just read is cached: peek answers');
    assert.equal(now, value);
    const missing = Buffer.concat([key, Buffer.from([0])]);
    const gone = lsm.peek(missing);
    assert.ok(gone === undefined || gone === null, 'an absent key is never given a value');
    const range = { first: key, last: items[Math.min(items.length - 1, i + 5)]! };
    const keys = await lsm.keysIn(range);
    const keysNow = lsm.keysInNow(range);
    assert.ok(keysNow, 'the units keysIn just read are cached');
    assert.equal(keysNow, keys);
    answered += 1;
  }
  assert.ok(answered > 10);
});

test('lsm - many flushes and compactions hold exactly what a full replay of the logs holds', async () => {
  const vol = await makeVolume(new MemoryDevice(256 * MiB), { logBlocksPerSlot: 16384 });
  const { store, writer } = await history(vol, 5, 6000);
  await store.checkpoint([writer]);
  await store.close();
  const runs = store.lsm.manifest.runs;
  assert.ok(store.lsm.manifest.generation > 10, `only ${store.lsm.manifest.generation} manifests`);
  assert.ok(runs.length <= 12, `${runs.length} runs: compaction does not bound them`);
  const expected = await replayDump(vol);
  assert.equal(await lsmDump(store.lsm), expected);
  const reopened = await Store.open(await loadVolume(vol.dev));
  assert.is(reopened.replayed.transactions, 0, 'everything was checkpointed; nothing to replay');
  assert.equal(await lsmDump(reopened.lsm), expected);
});

test('lsm - collect and peek answer what scan and get answer, across memtable and runs', async () => {
  const vol = await makeVolume(new MemoryDevice(256 * MiB), { logBlocksPerSlot: 16384 });
  // a tiny memtable: the latest items are in the memtable, shadowing older ones in the runs
  const { store } = await history(vol, 11, 3000);
  const lsm = store.lsm;
  assert.ok(lsm.runReaders.length > 0, 'some items are in runs');
  const collected = (await lsm.collect(ALL_KEYS)).map(
    ([k, v]) => `${k.toString('hex')} ${v.toString('hex')}`,
  );
  assert.equal(collected, await lsmDump(lsm));
  // sub-ranges too: every 97th key to the 313th after it
  const keys = (await lsm.collect(ALL_KEYS)).map(([k]) => k);
  for (let i = 0; i + 313 < keys.length; i += 97) {
    const range = { first: keys[i]!, last: keys[i + 313]! };
    const a = (await lsm.collect(range)).map(([k]) => k.toString('hex'));
    const b: string[] = [];
    for await (const [k] of lsm.scan(range)) b.push(k.toString('hex'));
    assert.equal(a, b);
  }
  let peeked = 0;
  for (const k of keys.slice(0, 2000)) {
    const p = lsm.peek(k);
    if (p === undefined) continue;
    peeked += 1;
    assert.equal(p, await lsm.get(k), 'peek agrees with get');
  }
  const absent = Buffer.from('ff00ff00', 'hex');
  const p = lsm.peek(absent);
  assert.ok(p === null || p === undefined);
  assert.is(await lsm.get(absent), null);
  assert.ok(peeked > 0, 'peek answered without IO for memtable keys');
  await store.close();
});

test('lsm - an open replays only the log tail after the checkpoint', async () => {
  const vol = await makeVolume(new MemoryDevice(128 * MiB), { logBlocksPerSlot: 8192 });
  const { store, writer } = await history(vol, 6, 1500);
  await store.checkpoint();
  const before = store.lastSeq;
  for (let i = 0; i < 40; i++) {
    const time = { sec: i, nsec: 0 };
    await writer.append([
      { type: 'InodeCreated', ino: 1_000_000 + i, mode: 0o100600, uid: 0, gid: 0, rdev: 0, time },
    ]);
    await writer.commit();
  }
  const reopened = await Store.open(await loadVolume(vol.dev));
  assert.is(reopened.replayed.transactions, 40);
  assert.ok(reopened.lastSeq > before);
});

test('lsm - a corrupted run block is EIO naming the block', async () => {
  const vol = await makeVolume(new MemoryDevice(128 * MiB), { logBlocksPerSlot: 8192 });
  const { store } = await history(vol, 7, 800, 1 << 30);
  await store.checkpoint();
  const run = store.lsm.manifest.runs[0]!;
  const dev: BlockDevice = vol.dev;
  const target = run.start + 1;
  const block = await dev.read(target * 4096, 4096);
  block[200]! ^= 0xff;
  await dev.write(target * 4096, block);
  const reopened = await Store.open(await loadVolume(dev));
  try {
    await lsmDump(reopened.lsm);
    assert.unreachable('read a corrupt run');
  } catch (err) {
    assert.instance(err, FsError);
    assert.is((err as FsError).code, 'EIO');
    assert.match(
      (err as Error).message,
      new RegExp(`run ${run.id} data unit \\(block ${target}\\) bad crc32c`),
    );
  }
});

test('lsm - a scan that started before a compaction finishes on the runs it started with', async () => {
  const vol = await makeVolume(new MemoryDevice(256 * MiB), { logBlocksPerSlot: 16384 });
  const { store, writer } = await history(vol, 8, 300, 1 << 30);
  await store.checkpoint();
  const expected = await lsmDump(store.lsm);
  const scan = store.lsm.scan(ALL_KEYS);
  const seen: string[] = [];
  for (let i = 0; i < 10; i++) {
    const { value } = await scan.next();
    seen.push(`${value![0].toString('hex')} ${value![1].toString('hex')}`);
  }
  // more history and checkpoints: the runs the scan reads get merged away and their blocks freed
  const model = new NamespaceModel(rng(800));
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < 600; i++) await writer.append(model.step().map((e) => shift(e)));
    await writer.commit();
    await store.checkpoint();
  }
  assert.ok(
    store.lsm.manifest.runs.every((r) => r.id > 1),
    'the runs the scan started on were merged away',
  );
  const freeWhileScanning = store.lsm.freeMetaBlocks;
  for await (const [k, v] of { [Symbol.asyncIterator]: () => scan })
    seen.push(`${k.toString('hex')} ${v.toString('hex')}`);
  await new Promise((r) => setImmediate(r));
  assert.ok(
    store.lsm.freeMetaBlocks > freeWhileScanning,
    'the merged-away runs were freed while still being read',
  );
  assert.equal(seen, expected);
  assert.equal(await lsmDump(store.lsm), await replayDump(vol));
});

/** Events of a second model moved to inode numbers and names the first model never uses. */
function shift(e: import('../../src/events/event.js').FsEvent): import('../../src/events/event.js').FsEvent {
  const o = { ...e } as Record<string, unknown>;
  if (typeof o.ino === 'number' && o.ino !== 1) o.ino = (o.ino as number) + 1_000_000;
  if (typeof o.dir === 'number' && o.dir !== 1) o.dir = (o.dir as number) + 1_000_000;
  if (o.name instanceof Uint8Array && o.type !== 'XattrSet' && o.type !== 'XattrRemoved')
    o.name = Buffer.concat([Buffer.from('z'), o.name]);
  if (typeof o.pos === 'number') o.pos = (o.pos as number) + 1_000_000;
  return o as unknown as import('../../src/events/event.js').FsEvent;
}

test.run();
