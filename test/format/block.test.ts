import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FsError } from '../../src/errors.js';
import { type BlockExpectation, blockProblem, checkBlock, sealBlock } from '../../src/format/block.js';
import { BLOCK_SIZE, MAGIC } from '../../src/format/layout.js';
import {
  encodeRecord,
  judgeRecordHeader,
  RECORD_HEADER_BYTES,
  recordPayload,
} from '../../src/format/record.js';
import { defineStruct } from '../../src/format/struct.js';

const fsid = Buffer.from('0123456789abcdef', 'hex');
const sealed = () => {
  const b = Buffer.alloc(BLOCK_SIZE);
  b.write('payload', 100);
  return sealBlock(b, { magic: MAGIC.slotHeader, fsid, seq: 7, blkno: 42 });
};
const expect: BlockExpectation = { magic: MAGIC.slotHeader, fsid, blkno: 42, what: 'log slot 0 header A' };

test('block - a sealed block passes its checks', () => {
  const h = checkBlock(sealed(), expect);
  assert.is(h.seq, 7);
  assert.is(h.blkno, 42);
});

test('block - each failed check is an EIO that names the block and the check', () => {
  const cases: [(b: Buffer) => void, typeof expect, RegExp][] = [
    [(b) => b.writeUInt8(b[100]! ^ 1, 100), expect, /bad crc32c/],
    [(b) => b.writeUInt8(b[4]! ^ 1, 4), expect, /bad crc32c/],
    [() => {}, { ...expect, magic: MAGIC.superblock }, /bad magic/],
    [() => {}, { ...expect, blkno: 43 }, /claims to be block 42/],
    [() => {}, { ...expect, fsid: Buffer.alloc(8) }, /belongs to filesystem 0123456789abcdef/],
  ];
  for (const [damage, e, message] of cases) {
    const b = sealed();
    damage(b);
    assert.ok(blockProblem(b, e));
    try {
      checkBlock(b, e);
      assert.unreachable();
    } catch (err) {
      assert.instance(err, FsError);
      assert.match((err as Error).message, message);
      assert.match((err as Error).message, new RegExp(`log slot 0 header A \\(block ${e.blkno}\\)`));
    }
  }
});

test('struct - round-trips and refuses what it cannot store', () => {
  const s = defineStruct('t', [
    ['a', 'u8'],
    ['b', 'u64'],
    ['c', 'b8'],
  ] as const);
  const buf = Buffer.alloc(s.size);
  s.encode({ a: 255, b: Number.MAX_SAFE_INTEGER, c: fsid }, buf, 0);
  assert.equal(s.decode(buf, 0), { a: 255, b: Number.MAX_SAFE_INTEGER, c: fsid });
  assert.throws(() => s.encode({ a: 1, b: -1, c: fsid }, buf, 0), /t.b/);
  buf.writeUInt32BE(0xffffffff, 1);
  assert.throws(() => s.decode(buf, 0), /exceeds 2\^53/);
});

test('record - judged as the record, the end, or torn', () => {
  const at = { fsid, slot: 1, lsn: 5, block: 10, minEpoch: 2 };
  const rec = encodeRecord({ ...at, seq: 9, epoch: 3, count: 0, commitMs: 1 }, [Buffer.from([0x80])]);
  const v = judgeRecordHeader(rec, at);
  assert.is(v.kind, 'record');
  assert.ok(v.kind === 'record' && recordPayload(rec, v.header));
  assert.is(judgeRecordHeader(rec, { ...at, lsn: 6 }).kind, 'end');
  assert.is(judgeRecordHeader(rec, { ...at, block: 11 }).kind, 'end');
  assert.is(judgeRecordHeader(rec, { ...at, fsid: Buffer.alloc(8) }).kind, 'end');
  assert.is(judgeRecordHeader(Buffer.alloc(BLOCK_SIZE), at).kind, 'end');
  const stale = judgeRecordHeader(rec, { ...at, minEpoch: 4 });
  assert.ok(stale.kind === 'end' && /stale record of writer epoch 3/.test(stale.why));
  const torn = Buffer.from(rec);
  torn[RECORD_HEADER_BYTES] = 0x81;
  const tv = judgeRecordHeader(torn, at);
  assert.ok(tv.kind === 'record' && recordPayload(torn, tv.header) === null);
});

test.run();
