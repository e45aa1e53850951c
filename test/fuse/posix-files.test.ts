/*
 * POSIX file data through a real mount: files unlinked while open, truncate and ftruncate both
 * ways, sparse files (up to and past 4 GiB), appends and overwrites against a model, statfs
 * numbers that move with the data, ENOSPC on a full data region, and contents that survive a
 * remount.
 *
 * Freed blocks come back only when the transaction that freed them is durable, and a last
 * close reaches the filesystem after close(2) has returned, so space checks wait for the
 * numbers (committing meanwhile) instead of reading them once. Reads open the file afresh:
 * FUSE drops a file's page cache on open, so the bytes come from the filesystem.
 */

import {
  closeSync,
  existsSync,
  fstatSync,
  ftruncateSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  rmdirSync,
  statfsSync,
  statSync,
  truncateSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { withMount } from '../helpers/mount.js';
import {
  commit,
  errnoOf,
  eventually,
  freeBlocks,
  freshDirs,
  settledFreeBlocks,
  sh,
  suiteMount,
} from '../helpers/posix.js';
import { rng } from '../helpers/rng.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;
const BLOCK = 4096;

const mnt = suiteMount(test);
/** A fresh directory in the mount for one test. */
const fresh = freshDirs(test, mnt);

/** `length` bytes of the file at `offset`, through a descriptor of its own. */
function pread(path: string, offset: number, length: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(length);
    const got = readSync(fd, buf, 0, length, offset);
    return buf.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}

function pwrite(fd: number, data: Buffer | string, offset: number): void {
  const buf = typeof data === 'string' ? Buffer.from(data) : data;
  assert.is(writeSync(fd, buf, 0, buf.length, offset), buf.length, 'a whole write');
}

function isZero(b: Buffer): boolean {
  return b.every((x) => x === 0);
}

/** Data region numbers from `scoutfs df DIR`: [total, used, free]. */
async function dataDf(dir: string): Promise<[number, number, number]> {
  const r = await mnt().cli('df', dir);
  assert.is(r.code, 0, r.stderr);
  const row = r.stdout.split('\n').find((l) => l.trim().startsWith('Data '));
  assert.ok(row, `a Data row in: ${r.stdout}`);
  const [, , total, used, free] = row!.trim().split(/\s+/).map(Number);
  return [total!, used!, free!];
}

test('unlinked open file - stays readable and writable through its descriptors until the last close', () => {
  const d = fresh();
  const p = join(d, 'orphan');
  const fd = openSync(p, 'w+');
  const reader = openSync(p, 'r');
  try {
    pwrite(fd, Buffer.alloc(64 * KiB, 0x61), 0);
    unlinkSync(p);
    assert.not.ok(existsSync(p));
    assert.equal(readdirSync(d), [], 'no trace of the name (no .fuse_hidden file either)');
    assert.is(fstatSync(fd).nlink, 0, 'fstat finds it through the descriptor');
    pwrite(fd, 'tail', 64 * KiB);
    assert.is(fstatSync(reader).size, 64 * KiB + 4);
    const buf = Buffer.alloc(64 * KiB + 4);
    assert.is(readSync(reader, buf, 0, buf.length, 0), buf.length);
    assert.ok(buf.subarray(0, 64 * KiB).every((x) => x === 0x61));
    assert.is(buf.subarray(64 * KiB).toString(), 'tail');
    ftruncateSync(fd, 10);
    assert.is(fstatSync(reader).size, 10);
    // a new file may take the name while the old one lives on
    writeFileSync(p, 'new file');
    assert.is(readFileSync(p, 'utf8'), 'new file');
    assert.is(readSync(reader, buf, 0, 100, 0), 10);
    assert.is(buf.subarray(0, 10).toString(), 'aaaaaaaaaa');
  } finally {
    closeSync(fd);
    closeSync(reader);
  }
  assert.is(readFileSync(p, 'utf8'), 'new file');
});

test('unlinked open file - its directory can be removed while the file is open', () => {
  const d = fresh();
  const fd = openSync(join(d, 'f'), 'w+');
  try {
    pwrite(fd, 'data', 0);
    unlinkSync(join(d, 'f'));
    assert.is(
      errnoOf(() => rmdirSync(d)),
      'no error',
    );
    pwrite(fd, ' more', 4);
    const buf = Buffer.alloc(9);
    assert.is(readSync(fd, buf, 0, 9, 0), 9);
    assert.is(buf.toString(), 'data more');
  } finally {
    closeSync(fd);
  }
  assert.not.ok(existsSync(d));
});

test('unlinked open file - its blocks stay used while open and come back after the last close', async () => {
  const m = mnt();
  const d = fresh();
  const p = join(d, 'held');
  const before = await settledFreeBlocks(m);
  const [, usedBefore] = await dataDf(m.dir);
  const fd = openSync(p, 'w');
  let open = true;
  try {
    for (let i = 0; i < 8; i++) pwrite(fd, Buffer.alloc(MiB, i + 1), i * MiB);
    const written = freeBlocks(m.dir);
    assert.ok(before - written >= 2048, `8 MiB took ${before - written} blocks`);
    unlinkSync(p);
    commit(m);
    assert.ok(freeBlocks(m.dir) <= written, 'an open orphan keeps its blocks');
    pwrite(fd, 'still writable', 8 * MiB);
    closeSync(fd);
    open = false;
    await eventually(m, () => freeBlocks(m.dir) === before, `free blocks back to ${before}`);
    const [, usedAfter] = await dataDf(m.dir);
    assert.is(usedAfter, usedBefore, 'scoutfs df shows the data freed');
  } finally {
    if (open) closeSync(fd);
  }
});

test('truncate - shrinking drops the tail, growing reads zeros, also with truncate(1)', () => {
  const d = fresh();
  const p = join(d, 'f');
  const data = Buffer.alloc(3 * BLOCK + 100);
  for (let i = 0; i < data.length; i++) data[i] = (i % 251) + 1;
  writeFileSync(p, data);
  truncateSync(p, BLOCK + 10);
  assert.is(statSync(p).size, BLOCK + 10);
  assert.equal(readFileSync(p), data.subarray(0, BLOCK + 10));
  truncateSync(p, 5 * BLOCK);
  const grown = readFileSync(p);
  assert.is(grown.length, 5 * BLOCK);
  assert.equal(grown.subarray(0, BLOCK + 10), data.subarray(0, BLOCK + 10));
  assert.ok(isZero(grown.subarray(BLOCK + 10)), 'no old bytes come back past the cut');
  sh('truncate', '-s', '100', p);
  assert.is(statSync(p).size, 100);
  sh('truncate', '-s', '+1M', p);
  assert.is(statSync(p).size, 100 + MiB);
  assert.ok(isZero(pread(p, 100, MiB)));
  truncateSync(p, 0);
  assert.is(statSync(p).size, 0);
  assert.is(statSync(p).blocks, 0, 'an empty file holds no blocks');
  assert.is(readFileSync(p).length, 0);
  assert.is(
    errnoOf(() => truncateSync(d, 0)),
    'EISDIR',
  );
  assert.is(
    errnoOf(() => truncateSync(join(d, 'missing'), 0)),
    'ENOENT',
  );
});

test('ftruncate - shrinks and grows through an open descriptor, then writes past the cut read zeros', () => {
  const d = fresh();
  const p = join(d, 'f');
  const fd = openSync(p, 'w+');
  try {
    pwrite(fd, Buffer.alloc(10_000, 0xaa), 0);
    ftruncateSync(fd, 5000);
    assert.is(fstatSync(fd).size, 5000);
    ftruncateSync(fd, 10_000);
    assert.is(fstatSync(fd).size, 10_000);
    const buf = Buffer.alloc(10_000);
    assert.is(readSync(fd, buf, 0, buf.length, 0), 10_000);
    assert.ok(
      buf.subarray(0, 5000).every((x) => x === 0xaa),
      'kept bytes',
    );
    assert.ok(isZero(buf.subarray(5000)), 'the regrown part is zeros');
    // cut inside a block again, then write beyond it: the gap reads zeros
    ftruncateSync(fd, 3000);
    pwrite(fd, 'end', 12_000);
    assert.is(fstatSync(fd).size, 12_003);
  } finally {
    closeSync(fd);
  }
  const all = readFileSync(p);
  assert.is(all.length, 12_003);
  assert.ok(all.subarray(0, 3000).every((x) => x === 0xaa));
  assert.ok(isZero(all.subarray(3000, 12_000)));
  assert.is(all.subarray(12_000).toString(), 'end');
});

test('truncate - shrinking a file frees its blocks', async () => {
  const m = mnt();
  const d = fresh();
  const p = join(d, 'f');
  const before = await settledFreeBlocks(m);
  writeFileSync(p, Buffer.alloc(4 * MiB, 7));
  assert.is(statSync(p).blocks, (4 * MiB) / 512, 'st_blocks counts 512-byte units');
  assert.is(before - freeBlocks(m.dir), 1024);
  truncateSync(p, MiB);
  assert.is(statSync(p).blocks, MiB / 512);
  await eventually(m, () => before - freeBlocks(m.dir) === 256, 'three quarters freed');
  unlinkSync(p);
  await eventually(m, () => freeBlocks(m.dir) === before, 'all freed');
});

test('sparse file - holes read as zeros and hold no blocks', () => {
  const d = fresh();
  const p = join(d, 'sparse');
  const fd = openSync(p, 'w');
  try {
    pwrite(fd, 'head', 0);
    pwrite(fd, 'middle', MiB + 123);
    pwrite(fd, 'tail', 10 * MiB - 4);
  } finally {
    closeSync(fd);
  }
  const st = statSync(p);
  assert.is(st.size, 10 * MiB);
  assert.ok(st.blocks <= 4 * 8, `three written blocks, not ${st.blocks / 8}`);
  const all = readFileSync(p);
  assert.is(all.subarray(0, 4).toString(), 'head');
  assert.ok(isZero(all.subarray(4, MiB + 123)));
  assert.is(all.subarray(MiB + 123, MiB + 129).toString(), 'middle');
  assert.ok(isZero(all.subarray(MiB + 129, 10 * MiB - 4)));
  assert.is(all.subarray(10 * MiB - 4).toString(), 'tail');
  assert.is(sh('du', '-k', '--apparent-size', p).split('\t')[0], String(10 * 1024));
  assert.ok(Number(sh('du', '-k', p).split('\t')[0]) <= 16, 'du counts the allocated blocks');
});

test('sparse file - a 4 GiB file reads zeros in its hole, and offsets past 2^32 work', () => {
  const d = fresh();
  const p = join(d, 'huge');
  writeFileSync(p, 'start');
  truncateSync(p, 4 * GiB);
  assert.is(statSync(p).size, 4 * GiB);
  const fd = openSync(p, 'r+');
  try {
    pwrite(fd, 'end', 4 * GiB - 3);
    pwrite(fd, 'beyond', 4 * GiB + 3 * BLOCK + 5);
  } finally {
    closeSync(fd);
  }
  const st = statSync(p);
  assert.is(st.size, 4 * GiB + 3 * BLOCK + 11);
  assert.ok(st.blocks <= 3 * 8, `three blocks written, ${st.blocks / 8} allocated`);
  assert.is(pread(p, 0, 5).toString(), 'start');
  assert.ok(isZero(pread(p, 5, MiB)), 'zeros after the start');
  assert.ok(isZero(pread(p, 2 * GiB - MiB / 2, MiB)), 'zeros across 2 GiB');
  const nearEnd = pread(p, 4 * GiB - MiB, MiB);
  assert.ok(isZero(nearEnd.subarray(0, MiB - 3)));
  assert.is(nearEnd.subarray(MiB - 3).toString(), 'end');
  const past = pread(p, 4 * GiB, 3 * BLOCK + 11);
  assert.ok(isZero(past.subarray(0, 3 * BLOCK + 5)));
  assert.is(past.subarray(3 * BLOCK + 5).toString(), 'beyond');
  assert.is(pread(p, 5 * GiB, 10).length, 0, 'a read past the end returns nothing');
  sh('truncate', '-s', '6G', p);
  assert.is(sh('stat', '-c', '%s', p), `${6 * GiB}\n`);
  unlinkSync(p);
});

test('append - O_APPEND writes land at the end, whatever the offset and whoever extended the file', () => {
  const d = fresh();
  const p = join(d, 'log');
  writeFileSync(p, 'one\n');
  const appender = openSync(p, 'a');
  const other = openSync(p, 'r+');
  try {
    writeSync(appender, 'two\n');
    pwrite(other, 'three\n', 8);
    writeSync(appender, 'four\n');
    writeSync(appender, Buffer.from('five\n'), 0, 5, 0);
  } finally {
    closeSync(appender);
    closeSync(other);
  }
  sh('sh', '-c', 'echo six >> "$1"', 'sh', p);
  assert.is(readFileSync(p, 'utf8'), 'one\ntwo\nthree\nfour\nfive\nsix\n');
});

test('overwrite - writes inside a file replace bytes in place, across block edges, keeping the size', () => {
  const d = fresh();
  const p = join(d, 'f');
  const model = Buffer.alloc(3 * BLOCK, 0x2e);
  writeFileSync(p, model);
  const fd = openSync(p, 'r+');
  try {
    for (const [at, text] of [
      [0, 'AB'],
      [BLOCK - 2, 'edge'],
      [2 * BLOCK - 1, 'X'.repeat(BLOCK)],
      [3 * BLOCK - 1, 'z'],
    ] as const) {
      pwrite(fd, text, at);
      model.write(text, at);
    }
  } finally {
    closeSync(fd);
  }
  assert.is(statSync(p).size, 3 * BLOCK);
  assert.equal(readFileSync(p), model);
  sh('dd', 'if=/dev/zero', `of=${p}`, 'bs=1', 'count=3', `seek=${BLOCK}`, 'conv=notrunc', 'status=none');
  model.fill(0, BLOCK, BLOCK + 3);
  assert.equal(readFileSync(p), model);
});

test('file data - random writes and truncates match an in-memory model', () => {
  const d = fresh();
  const p = join(d, 'random');
  const r = rng(0x5c0f);
  let model = Buffer.alloc(0);
  const fd = openSync(p, 'w+');
  try {
    for (let op = 0; op < 150; op++) {
      if (r.int(8) === 0) {
        const size = r.int(2 * MiB);
        ftruncateSync(fd, size);
        const next = Buffer.alloc(size);
        model.copy(next, 0, 0, Math.min(size, model.length));
        model = next;
      } else {
        const at = r.int(2 * MiB);
        const len = 1 + r.int(r.int(2) ? 300 : 200 * KiB);
        const data = Buffer.alloc(len);
        for (let i = 0; i < len; i++) data[i] = r.int(256);
        pwrite(fd, data, at);
        if (at + len > model.length) {
          const next = Buffer.alloc(at + len);
          model.copy(next);
          model = next;
        }
        data.copy(model, at);
      }
      assert.is(fstatSync(fd).size, model.length, `size after op ${op}`);
      if (op % 25 === 24) assert.ok(readFileSync(p).equals(model), `contents after op ${op}`);
    }
  } finally {
    closeSync(fd);
  }
  assert.ok(readFileSync(p).equals(model), 'final contents');
});

test('statfs - real block and inode numbers that follow writes and removes', async () => {
  const m = mnt();
  const d = fresh();
  await settledFreeBlocks(m);
  const s0 = statfsSync(m.dir);
  assert.is(s0.bsize, BLOCK);
  assert.ok(s0.blocks > 10_000, `blocks ${s0.blocks}`);
  assert.ok(s0.bfree > 0 && s0.bfree <= s0.blocks);
  assert.is(s0.bavail, s0.bfree);
  assert.ok(s0.files > 0 && s0.ffree > 0 && s0.ffree < s0.files);
  const [total, , free] = await dataDf(m.dir);
  assert.is(total, s0.blocks, 'scoutfs df and statfs agree on the total');
  assert.is(free, s0.bfree, 'and on what is free');
  const [size, used, avail] = sh('df', '-B4096', '--output=size,used,avail', m.dir)
    .trim()
    .split('\n')[1]!
    .trim()
    .split(/\s+/)
    .map(Number);
  assert.equal([size, used, avail], [s0.blocks, s0.blocks - s0.bfree, s0.bavail], 'df(1) shows the same');

  writeFileSync(join(d, 'a'), Buffer.alloc(4 * MiB, 1));
  writeFileSync(join(d, 'b'), '');
  const s1 = statfsSync(m.dir);
  assert.is(s0.bfree - s1.bfree, 1024, '4 MiB of blocks taken');
  assert.is(s0.ffree - s1.ffree, 2, 'two inodes taken');
  assert.is(s1.blocks, s0.blocks);
  unlinkSync(join(d, 'a'));
  unlinkSync(join(d, 'b'));
  await eventually(m, () => statfsSync(m.dir).bfree === s0.bfree, 'the blocks back');
  assert.is(statfsSync(m.dir).ffree, s0.ffree, 'the inodes back');
});

test('write - contents, holes and sizes survive an unmount and a mount', async () => {
  const m = mnt();
  const d = fresh();
  const data = Buffer.alloc(300 * KiB);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7) % 256;
  writeFileSync(join(d, 'plain'), data);
  const fd = openSync(join(d, 'sparse'), 'w');
  pwrite(fd, 'x', 5 * MiB);
  closeSync(fd);
  writeFileSync(join(d, 'cut'), Buffer.alloc(3 * BLOCK, 9));
  truncateSync(join(d, 'cut'), BLOCK + 1);
  truncateSync(join(d, 'cut'), 2 * BLOCK);
  await m.unmount();
  await m.remount();
  assert.ok(readFileSync(join(d, 'plain')).equals(data));
  const sparse = readFileSync(join(d, 'sparse'));
  assert.is(sparse.length, 5 * MiB + 1);
  assert.ok(isZero(sparse.subarray(0, 5 * MiB)));
  assert.is(sparse[5 * MiB], 0x78);
  const cut = readFileSync(join(d, 'cut'));
  assert.is(cut.length, 2 * BLOCK);
  assert.ok(cut.subarray(0, BLOCK + 1).every((x) => x === 9));
  assert.ok(isZero(cut.subarray(BLOCK + 1)));
});

test('ENOSPC - a full data region refuses writes, and the volume works again once the file is gone', async () => {
  await withMount(
    async (m) => {
      const s0 = statfsSync(m.dir);
      const p = join(m.dir, 'fill');
      const chunk = Buffer.alloc(MiB, 0x5a);
      const limit = Math.ceil((s0.blocks * BLOCK) / MiB) + 8;
      let written = 0;
      let code = 'no error';
      const fd = openSync(p, 'w');
      try {
        for (let i = 0; i < limit; i++) written += writeSync(fd, chunk, 0, chunk.length, written);
      } catch (err) {
        code = (err as NodeJS.ErrnoException).code ?? String(err);
      } finally {
        closeSync(fd);
      }
      assert.is(code, 'ENOSPC');
      assert.ok(written >= 0.95 * s0.bfree * BLOCK, `filled ${written} of ${s0.bfree * BLOCK} bytes`);
      assert.ok(written <= s0.bfree * BLOCK);
      assert.is(statSync(p).size, written, 'the file holds what was written');
      assert.ok(statfsSync(m.dir).bfree < 256, 'nearly no blocks left');
      assert.is(
        errnoOf(() => writeFileSync(join(m.dir, 'more'), chunk)),
        'ENOSPC',
      );
      assert.ok(
        pread(p, written - MiB, MiB).every((x) => x === 0x5a),
        'the written data reads back',
      );

      unlinkSync(p);
      unlinkSync(join(m.dir, 'more'));
      // no sleep and no sync: the filesystem commits pending frees before it says ENOSPC
      const after = Buffer.alloc(8 * MiB, 0x33);
      writeFileSync(join(m.dir, 'after'), after);
      assert.ok(readFileSync(join(m.dir, 'after')).equals(after));
      await eventually(m, () => statfsSync(m.dir).bfree === s0.bfree - 2048, 'the space back');

      // and it fills to the same level again
      unlinkSync(join(m.dir, 'after'));
      const fd2 = openSync(join(m.dir, 'again'), 'w');
      let again = 0;
      try {
        for (let i = 0; i < limit; i++) again += writeSync(fd2, chunk, 0, chunk.length, again);
      } catch (err) {
        code = (err as NodeJS.ErrnoException).code ?? String(err);
      } finally {
        closeSync(fd2);
      }
      assert.is(code, 'ENOSPC');
      assert.ok(again >= written - MiB, `refilled ${again} bytes, first time ${written}`);
    },
    { size: '96M' },
  );
});

test.run();
