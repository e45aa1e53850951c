/*
 * File data through a real mount: what is written is what is read, before and after a remount,
 * and the index still verifies against the logs afterwards.
 *
 *   - fio writes several files at once, randomly and sequentially, in mixed block sizes, and
 *     verifies every block's crc32c; after a remount it verifies them again (--verify_only);
 *   - a long seeded run of writes, reads, truncates and appends on several files is applied to
 *     the mount and to twins on the local filesystem, comparing reads along the way and whole
 *     files at the end, then again after a remount (DATA_SEED to repeat a run);
 *   - a dense 1 GiB file written sequentially reads back with the same sha256 after a remount;
 *   - a 4 GiB sparse file, a few bytes at far offsets (across a block boundary, across 2 GiB,
 *     the last byte at 4 GiB - 1), has its size, its data and zeros everywhere else, live and
 *     after a remount.
 *
 *   - reads are done by the binding's FUSE threads straight from the device (patch 6): when the
 *     device cannot give a file's bytes (the image cut short under the mount), the read fails
 *     EIO, the mount says so in its log, and it goes on serving once the device is whole;
 *   - the binding answers reads of an open file from the window of extents it was last given
 *     (patch 6): every change to the file made through another descriptor or by path (in
 *     place, a truncate that frees and a write that maps blocks again, a truncate to nothing,
 *     an append) is seen by the next read of the open descriptor (O_DIRECT, so each read
 *     reaches the mount and not the kernel's page cache).
 *
 * Every scenario but the last ends with a clean unmount and `scoutfs replay IMG --verify`.
 */

import { createHash } from 'node:crypto';
import {
  closeSync,
  constants,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  statSync,
  truncateSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { open, stat, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { entryId, pathsFor } from '../../src/control/registry.js';
import { openVolume } from '../../src/volume/volume.js';
import { assertFioVerified, fio } from '../helpers/fio.js';
import { buildCliIfStale } from '../helpers/fresh-build.js';
import { withMount } from '../helpers/mount.js';
import { assertReplayClean, assertSpaceAccounted, sha256File } from '../helpers/mount-checks.js';
import { assertSameContents, runTwinOps } from '../helpers/twin-files.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const SEED = Number(process.env.DATA_SEED ?? Date.now() % 2 ** 31);

console.log(`data seed ${SEED} (repeat with DATA_SEED=${SEED})`);

test.before(buildCliIfStale);

const RAND_JOBS = 3;
const RAND_BYTES = 24 * MiB;
const SEQ_JOBS = 2;
const SEQ_BYTES = 32 * MiB;

/** Two job groups running at once: random writes in mixed sizes, and sequential writes. */
function fioJobs(dir: string): string[] {
  return [
    `--directory=${dir}`,
    '--ioengine=psync',
    '--direct=0',
    '--verify=crc32c',
    '--verify_fatal=1',
    '--verify_state_save=0',
    '--end_fsync=1',
    '--name=rand',
    '--rw=randwrite',
    '--bssplit=4k/50:64k/25:128k/25',
    `--numjobs=${RAND_JOBS}`,
    `--size=${RAND_BYTES}`,
    '--name=seq',
    '--rw=write',
    '--bssplit=4k/20:64k/30:128k/50',
    `--numjobs=${SEQ_JOBS}`,
    `--size=${SEQ_BYTES}`,
  ];
}

test('data - fio random and sequential writes verify by crc32c, also after a remount', async () => {
  await withMount(
    async (m) => {
      const dir = join(m.dir, 'fio');
      mkdirSync(dir);
      const written = await fio(m.scratch, fioJobs(dir));
      assertFioVerified(written, RAND_JOBS + SEQ_JOBS, RAND_BYTES, 'write and verify');
      for (const j of written.jobs)
        assert.ok(j.write.io_bytes >= RAND_BYTES, `job ${j.jobname} wrote its file`);

      await m.unmount();
      await m.remount();
      const again = await fio(m.scratch, [...fioJobs(dir), '--verify_only']);
      assertFioVerified(again, RAND_JOBS + SEQ_JOBS, RAND_BYTES, 'verify after remount');
      await assertSpaceAccounted(m.dir, 'fio files after remount');

      await m.unmount();
      await assertReplayClean(m.device, 'the fio volume');
    },
    { size: '1G' },
  );
});

test('data - seeded writes, reads, truncates and appends match a local twin, also after a remount', async () => {
  const files = 4;
  await withMount(
    async (m) => {
      const local = join(m.scratch, 'twins');
      mkdirSync(local);
      const stats = await runTwinOps(m.dir, local, { seed: SEED, files, ops: 3000, maxSize: 24 * MiB });
      assert.ok(stats.written > 50 * MiB, `the run wrote ${stats.written} bytes`);
      assert.ok(stats.truncates > 100 && stats.appends > 100 && stats.reopens > 50, JSON.stringify(stats));
      await assertSameContents(m.dir, local, files, `seed ${SEED}, live`);

      await m.unmount();
      await m.remount();
      await assertSameContents(m.dir, local, files, `seed ${SEED}, after remount`);
      await assertSpaceAccounted(m.dir, `seed ${SEED}, after remount`);

      await m.unmount();
      await assertReplayClean(m.device, 'the twin-files volume');
    },
    { size: '1G' },
  );
});

test('data - a dense 1 GiB file written sequentially reads back with the same sha256', async () => {
  const chunk = MiB;
  await withMount(
    async (m) => {
      const path = join(m.dir, 'dense');
      const free = (await statfs(m.dir)).bfree;
      const written = createHash('sha256');
      const base = Buffer.alloc(chunk);
      for (let i = 0; i < chunk; i += 4) base.writeUInt32LE(Math.imul(i + SEED, 2654435761) >>> 0, i);
      const h = await open(path, 'w');
      try {
        for (let c = 0; c < GiB / chunk; c++) {
          // every 4 KiB block carries its own number, so a misplaced block cannot pass
          const data = Buffer.from(base);
          for (let b = 0; b < chunk; b += 4096) data.writeUInt32LE(c * (chunk / 4096) + b / 4096, b);
          written.update(data);
          const { bytesWritten } = await h.write(data, 0, chunk, c * chunk);
          assert.is(bytesWritten, chunk, `write of MiB ${c}`);
        }
        await h.sync();
      } finally {
        await h.close();
      }
      const st = await stat(path);
      assert.is(st.size, GiB);
      assert.is(st.blocks, GiB / 512, 'st_blocks counts every byte');
      assert.is(free - (await statfs(m.dir)).bfree, GiB / 4096, 'statfs: 1 GiB of blocks in use');

      await m.unmount();
      await m.remount();
      assert.is(await sha256File(path), written.digest('hex'), 'sha256 after remount');

      await m.unmount();
      await assertReplayClean(m.device, 'the dense-file volume');
    },
    { size: '2G' },
  );
});

test('data - a 4 GiB sparse file holds its bytes at far offsets and zeros in its holes', async () => {
  const pieces: [number, string][] = [
    [0, 'head'],
    [4094, 'across a block'],
    [GiB + 123, 'one GiB in'],
    [2 * GiB - 3, 'across 2 GiB'],
    [3 * GiB + 7 * 4096 - 1, 'q'],
    [4 * GiB - 9, 'last blk'],
    [4 * GiB - 1, 'Z'],
  ];
  const expectAround = async (path: string, what: string) => {
    const st = await stat(path);
    assert.is(st.size, 4 * GiB, `${what}: size`);
    assert.ok(st.blocks * 512 <= 16 * 4096, `${what}: only the written blocks are allocated (${st.blocks})`);
    const h = await open(path, 'r');
    try {
      const windows = [
        ...pieces.map(([at]) => Math.max(0, at - 6000)),
        512 * MiB,
        2 * GiB + 5 * MiB,
        4 * GiB - MiB,
      ];
      for (const from of windows) {
        const len = Math.min(MiB, 4 * GiB - from);
        const want = Buffer.alloc(len);
        for (const [at, s] of pieces) {
          if (at < from + len && at + s.length > from) {
            Buffer.from(s).copy(want, Math.max(0, at - from), Math.max(0, from - at));
          }
        }
        const buf = Buffer.alloc(len, 0xee);
        const { bytesRead } = await h.read(buf, 0, len, from);
        assert.is(bytesRead, len, `${what}: read at ${from}`);
        if (!buf.equals(want)) {
          const i = buf.findIndex((b, k) => b !== want[k]);
          assert.unreachable(`${what}: byte ${from + i} is ${buf[i]}, expected ${want[i]}`);
        }
      }
      const past = await h.read(Buffer.alloc(16), 0, 16, 4 * GiB);
      assert.is(past.bytesRead, 0, `${what}: nothing past the end`);
    } finally {
      await h.close();
    }
  };
  await withMount(async (m) => {
    const path = join(m.dir, 'sparse');
    const h = await open(path, 'w');
    try {
      for (const [at, s] of pieces) await h.write(Buffer.from(s), 0, s.length, at);
      await h.sync();
    } finally {
      await h.close();
    }
    await expectAround(path, 'live');
    await m.unmount();
    await m.remount();
    await expectAround(path, 'after remount');
    await m.unmount();
    await assertReplayClean(m.device, 'the sparse-file volume');
  });
});

test('data - a device read that fails answers EIO, is logged, and the mount serves on', async () => {
  await withMount(async (m) => {
    const vol = await openVolume(m.device, { readOnly: true });
    const dataStart = vol.sb.dataStart * 4096;
    await vol.dev.close();
    const bytes = Buffer.alloc(MiB);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7) & 0xff;
    const path = join(m.dir, 'f');
    writeFileSync(path, bytes);
    assert.ok(readFileSync(path).equals(bytes), 'read back before the device is cut');
    const size = statSync(m.device).size;
    // the data region is the end of the image: cut it off, so a pread of it ends early
    truncateSync(m.device, dataStart);
    try {
      let code = '';
      try {
        readFileSync(path); // a new open: the kernel asks the mount, not its page cache
      } catch (err) {
        code = (err as NodeJS.ErrnoException).code ?? '';
      }
      assert.is(code, 'EIO', 'a read whose bytes the device does not have');
    } finally {
      truncateSync(m.device, size);
    }
    // the next read handed off tells the log about the failure
    writeFileSync(join(m.dir, 'g'), 'after');
    assert.is(readFileSync(join(m.dir, 'g'), 'utf8'), 'after', 'the mount serves on');
    const log = readFileSync(pathsFor(await entryId(m.device, 0)).log, 'utf8');
    assert.match(log, /device read failed \(EIO answered\): errno none \(the device ended early\)/);
    await m.unmount();
  });
});

test('data - an open file read through the binding sees every change made through others', async () => {
  await withMount(async (m) => {
    const path = join(m.dir, 'f');
    const fill = (n: number, seed: number) => {
      const b = Buffer.alloc(n);
      for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff;
      return b;
    };
    const model = Buffer.alloc(8 * MiB);
    fill(8 * MiB, 1).copy(model);
    writeFileSync(path, model);
    let size = 8 * MiB;
    const reader = openSync(path, constants.O_RDONLY | constants.O_DIRECT);
    const writer = openSync(path, constants.O_WRONLY);
    try {
      /** Read [at, at + len) through the open reader and compare with the model. */
      const check = (at: number, len: number, what: string) => {
        const buf = Buffer.alloc(len, 0xee);
        const n = readSync(reader, buf, 0, len, at);
        const want = Math.max(0, Math.min(len, size - at));
        assert.is(n, want, `${what}: bytes read at ${at}`);
        if (!buf.subarray(0, n).equals(model.subarray(at, at + n))) {
          const i = buf.findIndex((b, k) => b !== model[at + k]);
          assert.unreachable(`${what}: byte ${at + i} is ${buf[i]}, expected ${model[at + i]}`);
        }
      };
      const sweep = (what: string) => {
        for (const at of [0, 128 * 1024, 2 * MiB, 2 * MiB + 4096 * 3 + 5, 5 * MiB - 100, 8 * MiB - 4096]) {
          check(at, 256 * 1024, what);
        }
      };
      sweep('first reads');

      // in place, through the other descriptor
      const b = fill(64 * 1024, 7);
      writeSync(writer, b, 0, b.length, 2 * MiB + 1000);
      b.copy(model, 2 * MiB + 1000);
      sweep('after a write in place');

      // a truncate frees the tail's blocks, a write maps new ones in the middle of the old range
      truncateSync(path, MiB);
      model.fill(0, MiB);
      const c = fill(300 * 1024, 9);
      writeSync(writer, c, 0, c.length, 5 * MiB);
      c.copy(model, 5 * MiB);
      size = 5 * MiB + c.length;
      await m.cli('sync', m.dir); // the freed blocks may be handed out again from here
      const d = fill(2 * MiB, 11);
      writeFileSync(join(m.dir, 'other'), d); // and may be, to another file
      sweep('after a truncate and a write past the cut');

      // to nothing, then an append
      truncateSync(path, 0);
      model.fill(0);
      size = 0;
      sweep('after a truncate to nothing');
      const e = fill(3 * MiB, 13);
      writeSync(writer, e, 0, e.length, 0);
      e.copy(model);
      size = e.length;
      sweep('after an append');
      assert.ok(readFileSync(join(m.dir, 'other')).equals(d), 'the other file is whole');
    } finally {
      closeSync(reader);
      closeSync(writer);
    }
    await m.unmount();
    await assertReplayClean(m.device, 'the changed-under-a-reader volume');
  });
});

test.run();
