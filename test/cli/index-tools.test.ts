import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { openFileDevice } from '../../src/device/file-device.js';
import type { FsEvent } from '../../src/events/event.js';
import { LogWriter } from '../../src/events/log-writer.js';
import { LocalSeqAuthority } from '../../src/events/seq-authority.js';
import { encodeInode } from '../../src/format/item-schema.js';
import { inodeKey } from '../../src/format/key.js';
import { mkfs } from '../../src/node/mkfs.js';
import { Store } from '../../src/node/store.js';
import { newInode } from '../../src/projections/inode-record.js';
import { loadVolume } from '../../src/volume/volume.js';
import { assertRefused, buildCli, scoutfs } from '../helpers/cli.js';
import { MiB, scratchDir } from '../helpers/volume.js';

const scratch = scratchDir();
test.before(() => buildCli());
test.after(() => scratch.remove());

const time = (sec: number) => ({ sec, nsec: 0 });
const create = (ino: number, name: string, sec: number): FsEvent[] => [
  { type: 'InodeCreated', ino, mode: 0o100644, uid: 0, gid: 0, rdev: 0, time: time(sec) },
  { type: 'DirentAdded', dir: 1, name: Buffer.from(name), ino, dtype: 8, pos: ino, time: time(sec) },
];

/**
 * A volume with 200 files created in checkpointed runs, then 5 of them changed after a known
 * seq; `bogus` adds an item to the index that no log event explains.
 */
async function volume(name: string, o: { bogus?: boolean } = {}) {
  const path = join(scratch.dir, name);
  const dev = await openFileDevice(path, { createBytes: 128 * MiB });
  await mkfs(dev, { quorumCount: 1, logSlots: 2, logBlocksPerSlot: 2048 });
  const vol = await loadVolume(dev);
  const store = await Store.open(vol, { memtableBytes: 16 * 1024 });
  const writer = await LogWriter.open(vol, 1, new LocalSeqAuthority(store.lastSeq));
  writer.committed$.subscribe((t) => void store.apply(t));
  for (let i = 0; i < 200; i++) {
    await writer.append(create(100 + i, `file-${i}`, 1000 + i));
    if (i % 10 === 9) await writer.commit();
  }
  await writer.commit();
  await store.checkpoint();
  const before = store.lastSeq;
  const changed = [103, 150, 199, 120, 101];
  for (const ino of changed) {
    await writer.append([{ type: 'InodeModeChanged', ino, mode: 0o100600, ctime: time(5000) }]);
    await writer.commit();
  }
  if (o.bogus) {
    store.lsm.apply(
      [
        {
          key: inodeKey(7777),
          value: encodeInode(
            newInode({ ino: 7777, mode: 0o100644, uid: 0, gid: 0, rdev: 0, time: time(1) }, 1),
          ),
        },
      ],
      1,
    );
  }
  await store.checkpoint();
  await writer.close();
  await store.close();
  await dev.close();
  return { path, before, changed, runs: store.lsm.manifest.runs };
}

test('walk-inodes - lists exactly the inodes changed after a seq, in index order, from the device', async () => {
  const v = await volume('walk.img');
  const all = await scoutfs('walk-inodes', 'meta_seq', '0', '-1', '--device', v.path);
  assert.is(all.code, 0, all.stderr);
  const lines = all.stdout.trimEnd().split('\n');
  assert.is(lines[0], '#  major  minor  ino');
  assert.is(lines.length, 1 + 201);
  const since = await scoutfs('walk-inodes', 'meta_seq', String(v.before + 1), '-1', '--device', v.path);
  const rows = since.stdout
    .trimEnd()
    .split('\n')
    .slice(1)
    .map((l) => l.split(/\s+/).map(Number));
  assert.equal(
    rows.map((r) => r[2]),
    v.changed,
    'one row per change, in seq order',
  );
  assert.ok(rows.every((r, i) => r[0] === v.before + 1 + i && r[1] === 0));
  const data = await scoutfs(
    'walk-inodes',
    'data_seq',
    String(v.before + 1),
    '-1',
    '--device',
    v.path,
    '--json',
  );
  assert.is(data.stdout, '', 'a chmod does not move data_seq');
  const json = await scoutfs(
    'walk-inodes',
    'meta_seq',
    String(v.before + 1),
    '-1',
    '--device',
    v.path,
    '--json',
  );
  assert.equal(JSON.parse(json.stdout.split('\n')[0]!), {
    index: 'meta_seq',
    major: v.before + 1,
    minor: 0,
    ino: 103,
  });
  assertRefused(
    await scoutfs('walk-inodes', 'meta_seq', '5', '2', '--device', v.path),
    2,
    /first seq 5 is after last seq 2/,
  );
  assertRefused(await scoutfs('walk-inodes', 'meta_seq', '0', '-1'), 2, /give a mount path or --device/);
});

test('replay - verify is clean on a sound volume and shows the namespace at a past seq', async () => {
  const v = await volume('clean.img');
  const r = await scoutfs('replay', v.path, '--verify');
  assert.is(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /201 inodes/);
  assert.match(r.stdout, /items identical, 0 differ/);
  assert.match(r.stdout, /verify: clean/);
  const at = await scoutfs('replay', v.path, '--until', '5', '--json');
  const paths = at.stdout
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l).path);
  assert.equal(paths, ['/', ...Array.from({ length: 40 }, (_, i) => `/file-${i}`)]);
  const now = await scoutfs('replay', v.path, '--until', '-1');
  assert.match(now.stdout, /\/file-3 {2}ino=103 mode=0100600/);
});

test('replay - verify reports an index item no event explains, and exits 1', async () => {
  const v = await volume('bogus.img', { bogus: true });
  const r = await scoutfs('replay', v.path, '--verify');
  assert.is(r.code, 1);
  assert.match(r.stdout, /differs: fs ino 7777 inode/);
  assert.match(r.stdout, /replay: \(absent\)/);
  assert.match(r.stdout, /verify: FAILED/);
});

test('replay - a corrupted run block is EIO naming the block, for verify and for walk-inodes', async () => {
  const v = await volume('corrupt.img');
  const run = v.runs.at(-1)!;
  const dev = await openFileDevice(v.path);
  const target = run.start;
  const block = await dev.read(target * 4096, 4096);
  block[300]! ^= 0x55;
  await dev.write(target * 4096, block);
  await dev.close();
  const pattern = new RegExp(`EIO: run ${run.id} data unit \\(block ${target}\\) bad crc32c`);
  assertRefused(await scoutfs('replay', v.path, '--verify'), 1, pattern);
  assertRefused(await scoutfs('walk-inodes', 'meta_seq', '0', '-1', '--device', v.path), 1, pattern);
});

test.run();
