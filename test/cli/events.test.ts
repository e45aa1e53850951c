import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { FsEvent } from '../../src/events/event.js';
import { APPEND_EVENTS_SCRIPT, appendTransactions, transactionsToJson } from '../helpers/append-events.js';
import { assertRefused, buildCli, runScript, scoutfs, startScoutfs } from '../helpers/cli.js';
import { scratchDir } from '../helpers/volume.js';

const scratch = scratchDir('scoutfs-cli-events-');
let n = 0;
const devPath = () => join(scratch.dir, `dev${n++}.img`);

const BAD_NAME = Buffer.from([0xff, 0xfe, 0x78]);
const t = (i: number) => ({ sec: 1_700_000_000 + i, nsec: i });

/** The scenario: [slot, events] per transaction, committed in this order as seqs 2.. */
const SCENARIO: [number, FsEvent[]][] = [
  [
    1,
    [
      { type: 'InodeCreated', ino: 2, mode: 0o100644, uid: 1000, gid: 100, rdev: 0, time: t(2) },
      { type: 'DirentAdded', dir: 1, name: Buffer.from('a.txt'), ino: 2, dtype: 8, pos: 2, time: t(2) },
    ],
  ],
  [
    2,
    [
      { type: 'InodeCreated', ino: 3, mode: 0o100600, uid: 0, gid: 0, rdev: 0, time: t(3) },
      { type: 'DirentAdded', dir: 1, name: BAD_NAME, ino: 3, dtype: 8, pos: 3, time: t(3) },
    ],
  ],
  [
    1,
    [
      { type: 'XattrSet', ino: 2, name: Buffer.from('user.k'), value: Buffer.from('v'), ctime: t(4) },
      { type: 'DataWritten', ino: 2, offset: 0, length: 4096, size: 4096, time: t(4) },
    ],
  ],
  [
    2,
    [
      { type: 'DirentRemoved', dir: 1, name: BAD_NAME, ino: 3, dtype: 8, pos: 3, time: t(5) },
      { type: 'InodeDeleted', ino: 3, xattrs: 0 },
    ],
  ],
  [0, [{ type: 'InodeTimesSet', ino: 1, atime: t(6), mtime: t(6), ctime: t(6) }]],
];

/** What the scenario volume lists: "seq slot type" per event. */
const ALL = [
  '1 0 InodeCreated',
  '2 1 InodeCreated',
  '2 1 DirentAdded',
  '3 2 InodeCreated',
  '3 2 DirentAdded',
  '4 1 XattrSet',
  '4 1 DataWritten',
  '5 2 DirentRemoved',
  '5 2 InodeDeleted',
  '6 0 InodeTimesSet',
];

let volume = '';

async function newFs(logSlots: number): Promise<string> {
  const path = devPath();
  const r = await scoutfs('mkfs', '-Q', '1', '--log-slots', String(logSlots), '--size', '128M', path);
  assert.is(r.code, 0, r.stderr);
  return path;
}

/** `scoutfs events VOLUME ARGS` as "seq slot type" per line; asserts success. */
async function listed(...args: string[]): Promise<string[]> {
  const r = await scoutfs('events', volume, ...args);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stderr, '');
  return lines(r.stdout).map((l) => {
    const m = /^seq (\d+) slot (\d+) (\w+) /.exec(l);
    assert.ok(m, `unexpected line: ${l}`);
    return m.slice(1).join(' ');
  });
}

const lines = (s: string) => s.split('\n').filter((l) => l !== '');
const only = (pred: (entry: string) => boolean) => ALL.filter(pred);
const seqOf = (entry: string) => Number(entry.split(' ')[0]);

test.before(async () => {
  buildCli();
  volume = await newFs(3);
  for (const [slot, events] of SCENARIO) await appendTransactions(volume, slot, [events]);
});
test.after(() => scratch.remove());

test('events - lists the creation of the root directory after mkfs', async () => {
  const path = await newFs(8);
  const r = await scoutfs('events', path);
  assert.is(r.code, 0, r.stderr);
  assert.match(
    r.stdout,
    /^seq 1 slot 0 InodeCreated ino=1 mode=040755 uid=0 gid=0 rdev=0 time=\d+\.\d{9}\n$/,
  );
});

test('events - merges every slot in seq order', async () => {
  assert.equal(await listed(), ALL);
});

test('events - prints every field, with non-UTF-8 names escaped', async () => {
  const r = await scoutfs('events', volume);
  const out = lines(r.stdout);
  assert.is(
    out[1],
    'seq 2 slot 1 InodeCreated ino=2 mode=0100644 uid=1000 gid=100 rdev=0 time=1700000002.000000002',
  );
  assert.is(
    out[2],
    'seq 2 slot 1 DirentAdded dir=1 name="a.txt" ino=2 dtype=8 pos=2 time=1700000002.000000002',
  );
  assert.is(
    out[4],
    'seq 3 slot 2 DirentAdded dir=1 name="\\xff\\xfex" ino=3 dtype=8 pos=3 time=1700000003.000000003',
  );
  assert.is(out[5], 'seq 4 slot 1 XattrSet ino=2 name="user.k" value="v" ctime=1700000004.000000004');
  assert.is(out[8], 'seq 5 slot 2 InodeDeleted ino=3 xattrs=0');
});

test('events - --slot lists one node log', async () => {
  assert.equal(
    await listed('--slot', '1'),
    only((e) => e.split(' ')[1] === '1'),
  );
  assert.equal(await listed('--slot', '0'), ['1 0 InodeCreated', '6 0 InodeTimesSet']);
  assertRefused(
    await scoutfs('events', volume, '--slot', '3'),
    2,
    /slot 3 does not exist; the filesystem has 3/,
  );
  assertRefused(await scoutfs('events', volume, '--slot', 'one'), 2, /"one" is not a non-negative integer/);
});

test('events - --from and --to bound the seqs', async () => {
  assert.equal(
    await listed('--from', '3', '--to', '4'),
    only((e) => seqOf(e) >= 3 && seqOf(e) <= 4),
  );
  assert.equal(await listed('--from', '6'), ['6 0 InodeTimesSet']);
  assert.equal(await listed('--to', '1'), ['1 0 InodeCreated']);
  assert.equal(await listed('--to', '-1'), ALL);
  assert.equal(await listed('--from', '7'), []);
  assert.equal(await listed('--from', '4', '--to', '2'), []);
  assert.equal(await listed('--slot', '2', '--from', '4'), ['5 2 DirentRemoved', '5 2 InodeDeleted']);
});

test('events - --ino lists the events that touch an inode, as inode or as directory', async () => {
  assert.equal(await listed('--ino', '3'), [
    '3 2 InodeCreated',
    '3 2 DirentAdded',
    '5 2 DirentRemoved',
    '5 2 InodeDeleted',
  ]);
  assert.equal(await listed('--ino', '1'), [
    '1 0 InodeCreated',
    '2 1 DirentAdded',
    '3 2 DirentAdded',
    '5 2 DirentRemoved',
    '6 0 InodeTimesSet',
  ]);
  assert.equal(await listed('--ino', '99'), []);
});

test('events - --type lists one event type; an unknown type is a usage error', async () => {
  assert.equal(await listed('--type', 'DirentAdded'), ['2 1 DirentAdded', '3 2 DirentAdded']);
  assert.equal(await listed('--type', 'InodeCreated', '--slot', '2'), ['3 2 InodeCreated']);
  assert.equal(await listed('--type', 'OrphanAdded'), []);
  const r = await scoutfs('events', volume, '--type', 'Nope');
  assertRefused(r, 2, /unknown event type "Nope" \(known: InodesReserved, InodeCreated, .*InodeDeleted\)/);
  assert.is(r.stdout, '');
  assertRefused(await scoutfs('events', volume, '--type', 'direntadded'), 2, /unknown event type/);
  for (const inherited of ['toString', 'constructor', '__proto__']) {
    assertRefused(await scoutfs('events', volume, '--type', inherited), 2, /unknown event type/);
  }
});

test('events - --json prints one object per event with seq, slot, type and fields', async () => {
  const r = await scoutfs('events', volume, '--json');
  assert.is(r.code, 0, r.stderr);
  const objs = lines(r.stdout).map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(
    objs.map((o) => `${o.seq} ${o.slot} ${o.type}`),
    ALL,
  );
  for (const o of objs) {
    assert.type(o.lsn, 'number');
    assert.type(o.commitMs, 'number');
  }
  const { commitMs: _c1, ...created } = objs[1]!;
  assert.equal(created, {
    seq: 2,
    slot: 1,
    lsn: 1,
    index: 0,
    type: 'InodeCreated',
    ino: 2,
    mode: 0o100644,
    uid: 1000,
    gid: 100,
    rdev: 0,
    time: '1700000002.000000002',
  });
  const { commitMs: _c2, ...added } = objs[4]!;
  assert.equal(added, {
    seq: 3,
    slot: 2,
    lsn: 1,
    index: 1,
    type: 'DirentAdded',
    dir: 1,
    name_base64: BAD_NAME.toString('base64'),
    ino: 3,
    dtype: 8,
    pos: 3,
    time: '1700000003.000000003',
  });
  assert.is(objs[2]!.name, 'a.txt');
  assert.is(objs[5]!.lsn, 2, 'second record of slot 1');
  assert.is(objs[5]!.value, 'v');
  const filtered = await scoutfs('events', volume, '--json', '--ino', '2', '--type', 'DataWritten');
  assert.equal(
    lines(filtered.stdout).map((l) => JSON.parse(l).type),
    ['DataWritten'],
  );
});

test('events - refuses a device that is not a filesystem', async () => {
  assertRefused(await scoutfs('events', join(scratch.dir, 'none')), 1, /ENOENT/);
});

test('events - --follow prints transactions another process commits, and exits 0 on SIGTERM', async () => {
  const path = await newFs(2);
  const follower = startScoutfs('events', path, '--follow', '--interval', '50', '--json');
  try {
    await follower.waitForLine((l) => l.includes('"seq":1,'), 15_000);

    const append = (slot: number, txns: FsEvent[][]) =>
      runScript(APPEND_EVENTS_SCRIPT, path, String(slot), transactionsToJson(txns));
    const first = await append(1, [
      [{ type: 'InodeCreated', ino: 10, mode: 0o100644, uid: 0, gid: 0, rdev: 0, time: t(10) }],
      [{ type: 'DirentAdded', dir: 1, name: BAD_NAME, ino: 10, dtype: 8, pos: 10, time: t(10) }],
    ]);
    assert.is(first.code, 0, first.stderr);
    assert.is(first.stdout, '2\n3\n');
    const started = Date.now();
    const line = await follower.waitForLine((l) => l.includes('"seq":3,'), 5000);
    assert.ok(Date.now() - started < 5000);
    assert.equal(JSON.parse(line), {
      ...JSON.parse(line),
      seq: 3,
      slot: 1,
      type: 'DirentAdded',
      name_base64: BAD_NAME.toString('base64'),
    });

    const second = await append(0, [[{ type: 'InodeDeleted', ino: 10, xattrs: 0 }]]);
    assert.is(second.code, 0, second.stderr);
    await follower.waitForLine((l) => l.includes('"seq":4,'), 5000);

    // a few more polls must not print anything twice
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(
      follower.lines.map((l) => {
        const o = JSON.parse(l);
        return `${o.seq} ${o.slot} ${o.type}`;
      }),
      ['1 0 InodeCreated', '2 1 InodeCreated', '3 1 DirentAdded', '4 0 InodeDeleted'],
    );

    const exit = await follower.stop('SIGTERM');
    assert.is(exit.timedOut, false, 'the follower ignored SIGTERM');
    assert.is(exit.code, 0);
    assert.is(exit.signal, null);
    assert.is(follower.stderr, '');
  } finally {
    follower.kill();
  }
});

test('events - --follow also stops cleanly on SIGINT', async () => {
  const path = await newFs(1);
  const follower = startScoutfs('events', path, '--follow', '--interval', '50');
  try {
    await follower.waitForLine((l) => l.startsWith('seq 1 slot 0 InodeCreated'), 15_000);
    // a line that only the follow loop can print: the history is done and the handlers are set
    await appendTransactions(path, 0, [[{ type: 'InodeDeleted', ino: 10, xattrs: 0 }]]);
    await follower.waitForLine((l) => l.startsWith('seq 2 slot 0 InodeDeleted ino=10 xattrs=0'), 5000);
    const exit = await follower.stop('SIGINT');
    assert.equal(exit, { code: 0, signal: null, timedOut: false });
  } finally {
    follower.kill();
  }
});

test.run();
