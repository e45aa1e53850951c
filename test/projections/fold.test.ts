import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FsError } from '../../src/errors.js';
import type { FsEvent, Transaction } from '../../src/events/event.js';
import { decodeInode } from '../../src/format/item-schema.js';
import {
  backrefKey,
  dataSeqKey,
  direntKey,
  inodeKey,
  metaSeqKey,
  orphanKey,
  xattrKey,
} from '../../src/format/key.js';
import { MemoryIndex } from '../../src/lsm/memory-index.js';
import { applyTransaction } from '../../src/projections/projector.js';
import { indexEntryOf, seqIndexRange } from '../../src/projections/seq-index.js';

const t = (sec: number) => ({ sec, nsec: 5 });
const root: FsEvent = { type: 'InodeCreated', ino: 1, mode: 0o040755, uid: 0, gid: 0, rdev: 0, time: t(1) };
const file = (ino: number, sec = 2): FsEvent[] => [
  { type: 'InodeCreated', ino, mode: 0o100644, uid: 7, gid: 8, rdev: 0, time: t(sec) },
  { type: 'DirentAdded', dir: 1, name: Buffer.from(`f${ino}`), ino, dtype: 8, pos: ino, time: t(sec) },
];

/** Given these transactions (one per list), folded in order. */
async function given(...txns: FsEvent[][]): Promise<MemoryIndex> {
  const index = new MemoryIndex();
  for (const [i, events] of txns.entries()) await applyTransaction(index, tx(i + 1, events));
  return index;
}
const tx = (seq: number, events: FsEvent[]): Transaction => ({
  seq,
  slot: 0,
  lsn: seq,
  commitMs: 0,
  events,
  end: { lsn: seq + 1, block: 0, epoch: 1 },
});
const inode = async (index: MemoryIndex, ino: number) =>
  decodeInode((await index.get(inodeKey(ino)))!, 'test');
/** Every memtable entry, tombstones and seqs included. */
const dump = (index: MemoryIndex) =>
  [...index.memtable.range(Buffer.alloc(0), Buffer.alloc(64, 0xff))].map(
    ([k, e]) => `${k.toString('hex')} ${e.seq} ${e.value?.toString('hex') ?? 'deleted'}`,
  );
const walk = (index: MemoryIndex, which: 'meta_seq' | 'data_seq') =>
  [...index.scan(seqIndexRange(which, 0, Number.MAX_SAFE_INTEGER))]
    .map(([k]) => indexEntryOf(k))
    .map((e) => [e.major, e.ino]);

test('fold - a created file has its items, link count and both seq index entries', async () => {
  const index = await given([root], file(2));
  const f = await inode(index, 2);
  assert.equal([f.nlink, f.uid, f.metaSeq, f.dataSeq, f.ctimeSec], [1, 7, 2, 2, 2]);
  assert.ok(await index.get(direntKey(1, Buffer.from('f2'))));
  assert.ok(await index.get(backrefKey(2, 1, 2, Buffer.from('f2'))));
  assert.equal(walk(index, 'meta_seq'), [
    [2, 1],
    [2, 2],
  ]);
  assert.equal(walk(index, 'data_seq'), [[2, 2]]);
  assert.is((await inode(index, 1)).mtimeSec, 2);
});

test('fold - a metadata change moves only meta_seq; a data change moves both', async () => {
  const index = await given([root], file(2), file(3), [
    { type: 'XattrSet', ino: 2, name: Buffer.from('user.a'), value: Buffer.from('v'), ctime: t(9) },
  ]);
  assert.equal(walk(index, 'meta_seq'), [
    [3, 1],
    [3, 3],
    [4, 2],
  ]);
  assert.equal(walk(index, 'data_seq'), [
    [2, 2],
    [3, 3],
  ]);
  await applyTransaction(
    index,
    tx(5, [{ type: 'DataWritten', ino: 3, offset: 0, length: 10, size: 10, time: t(10) }]),
  );
  assert.equal(walk(index, 'data_seq'), [
    [2, 2],
    [5, 3],
  ]);
  const f = await inode(index, 3);
  assert.equal([f.size, f.dataVersion, f.metaSeq, f.dataSeq], [10, 2, 5, 5]);
});

test('fold - directories count subdirectories in nlink; renames keep counts right', async () => {
  const mkdir: FsEvent[] = [
    { type: 'InodeCreated', ino: 2, mode: 0o040755, uid: 0, gid: 0, rdev: 0, time: t(2) },
    { type: 'DirentAdded', dir: 1, name: Buffer.from('d'), ino: 2, dtype: 4, pos: 1, time: t(2) },
  ];
  const index = await given([root], mkdir, file(3));
  assert.equal([(await inode(index, 1)).nlink, (await inode(index, 2)).nlink], [3, 2]);
  await applyTransaction(
    index,
    tx(4, [
      { type: 'DirentRemoved', dir: 1, name: Buffer.from('f3'), ino: 3, dtype: 8, pos: 3, time: t(4) },
      { type: 'DirentAdded', dir: 2, name: Buffer.from('g'), ino: 3, dtype: 8, pos: 1, time: t(4) },
    ]),
  );
  assert.is((await inode(index, 3)).nlink, 1);
  assert.is(await index.get(direntKey(1, Buffer.from('f3'))), null);
  assert.ok(await index.get(direntKey(2, Buffer.from('g'))));
});

test('fold - deleting an inode removes every item it owned and its index entries', async () => {
  const index = await given([root], file(2), [
    { type: 'XattrSet', ino: 2, name: Buffer.from('user.a'), value: Buffer.from('v'), ctime: t(3) },
    { type: 'DirentRemoved', dir: 1, name: Buffer.from('f2'), ino: 2, dtype: 8, pos: 2, time: t(3) },
    { type: 'OrphanAdded', ino: 2 },
  ]);
  assert.ok(await index.get(orphanKey(2)));
  await applyTransaction(index, tx(4, [{ type: 'InodeDeleted', ino: 2, xattrs: 1 }]));
  for (const key of [
    inodeKey(2),
    xattrKey(2, Buffer.from('user.a')),
    orphanKey(2),
    metaSeqKey(3, 2),
    dataSeqKey(2, 2),
  ]) {
    assert.is(await index.get(key), null, key.toString('hex'));
  }
  assert.equal(walk(index, 'meta_seq'), [[3, 1]]);
});

test('fold - a transaction folds to the same items in one batch as one event at a time', async () => {
  const events: FsEvent[] = [
    ...file(2, 3),
    { type: 'XattrSet', ino: 2, name: Buffer.from('user.a'), value: Buffer.from('v'), ctime: t(3) },
    ...file(3, 3),
    { type: 'DirentRemoved', dir: 1, name: Buffer.from('f3'), ino: 3, dtype: 8, pos: 3, time: t(4) },
    { type: 'DirentAdded', dir: 1, name: Buffer.from('g'), ino: 3, dtype: 8, pos: 9, time: t(4) },
    { type: 'DataWritten', ino: 3, offset: 0, length: 5, size: 5, time: t(4) },
    { type: 'DirentRemoved', dir: 1, name: Buffer.from('f2'), ino: 2, dtype: 8, pos: 2, time: t(5) },
    { type: 'InodeDeleted', ino: 2, xattrs: 1 },
    { type: 'InodeModeChanged', ino: 1, mode: 0o040700, ctime: t(6) },
  ];
  const whole = await given([root], file(4), events);
  const oneByOne = new MemoryIndex();
  await applyTransaction(oneByOne, tx(1, [root]));
  await applyTransaction(oneByOne, tx(2, file(4)));
  for (const e of events) await applyTransaction(oneByOne, tx(3, [e]));
  assert.equal(dump(whole), dump(oneByOne));
  // and it is what the events mean: the survivor renamed and written, the other gone
  assert.is((await inode(whole, 3)).size, 5);
  assert.is(await whole.get(inodeKey(2)), null);
  assert.is(await whole.get(xattrKey(2, Buffer.from('user.a'))), null);
});

test('fold - a transaction longer than one batch folds as its events one at a time', async () => {
  // 300 files (600 events, past the 256-event batch), then the first 100 removed: the removals
  // fall in a later batch than the creates they undo
  const events: FsEvent[] = [];
  for (let ino = 2; ino < 302; ino++) events.push(...file(ino, 3));
  for (let ino = 2; ino < 102; ino++) {
    events.push(
      { type: 'DirentRemoved', dir: 1, name: Buffer.from(`f${ino}`), ino, dtype: 8, pos: ino, time: t(4) },
      { type: 'InodeDeleted', ino, xattrs: 0 },
    );
  }
  const whole = await given([root], events);
  const oneByOne = new MemoryIndex();
  await applyTransaction(oneByOne, tx(1, [root]));
  for (const e of events) await applyTransaction(oneByOne, tx(2, [e]));
  assert.equal(dump(whole), dump(oneByOne));
  assert.is((await inode(whole, 1)).mtimeSec, 4);
  assert.is(await whole.get(inodeKey(50)), null);
  assert.is((await inode(whole, 200)).nlink, 1);
});

test('fold - events that contradict the items are EIO', async () => {
  const cases: FsEvent[][] = [
    [root],
    [{ type: 'DirentRemoved', dir: 1, name: Buffer.from('nope'), ino: 2, dtype: 8, pos: 9, time: t(3) }],
    [{ type: 'XattrSet', ino: 99, name: Buffer.from('user.a'), value: Buffer.from('v'), ctime: t(3) }],
    [{ type: 'ExtentUnmapped', ino: 2, logical: 0, physical: 5, count: 1 }],
    file(2).slice(1),
    [
      { type: 'ExtentMapped', ino: 2, logical: 0, physical: 100, count: 1 },
      { type: 'InodeDeleted', ino: 2, xattrs: 0 },
    ],
    // the inode counts one xattr; an event that says none (or two) contradicts it
    [
      { type: 'XattrSet', ino: 2, name: Buffer.from('user.a'), value: Buffer.from('v'), ctime: t(3) },
      { type: 'InodeDeleted', ino: 2, xattrs: 0 },
    ],
    [
      { type: 'XattrSet', ino: 2, name: Buffer.from('user.a'), value: Buffer.from('v'), ctime: t(3) },
      { type: 'InodeDeleted', ino: 2, xattrs: 2 },
    ],
    [{ type: 'XattrRemoved', ino: 2, name: Buffer.from('user.nope'), ctime: t(3) }],
  ];
  for (const events of cases) {
    const index = await given([root], file(2));
    try {
      await applyTransaction(index, tx(3, events));
      assert.unreachable(events[0]!.type);
    } catch (err) {
      assert.instance(err, FsError);
      assert.is((err as FsError).code, 'EIO');
    }
  }
});

test.run();
