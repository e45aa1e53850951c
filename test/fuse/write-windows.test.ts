/*
 * Write windows (src/fs/write-windows.ts, patch 8 of the binding): a sequential writer's data
 * is written by the binding's FUSE threads into blocks reserved for it, and mapped afterwards.
 * What must hold through a real mount:
 *
 *   - a seeded mix of sequential writes through one handle (the windowed path) with everything
 *     that can cut across a window: truncates by path (down and up, so the writer continues
 *     past the end and leaves a hole), writes through a second handle (over the window's
 *     range, and past it), fsync, renames, chmod, stat and O_DIRECT reads (which reach the
 *     filesystem, not the page cache), applied to the mount and to a twin on the local
 *     filesystem: every stat and read agrees, both files are equal at the end, after a clean
 *     unmount `replay --verify` is clean, and after a remount the file is still equal. The
 *     mount's counters must show most of the sequential writes answered by windows;
 *   - a file's mtime is the time of its last write, not of the moment the filesystem mapped
 *     what a window wrote, and `scoutfs sync` makes walk-inodes show it at a new data_seq;
 *   - a file unlinked while a window writes it stays readable and writable until the last
 *     close, and its blocks (mapped and reserved) are free after it;
 *   - SIGKILL of the mount after an fsync and more unsynced window writes: the fsync'd bytes
 *     are intact after the remount, and no block stays reserved (statfs agrees with the tree);
 *   - two writers side by side (and a change to a third inode between their writes) keep
 *     their windows: most of their writes are answered by the binding;
 *   - ENOSPC comes when the device is full even while another writer's window holds reserved
 *     blocks (the change that runs short takes them back), and the space freed is usable;
 *   - with the windows turned off (nowrite_windows) the same writes take the JS path.
 */

import {
  chmodSync,
  closeSync,
  constants,
  fstatSync,
  fsyncSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  statSync,
  truncateSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { mkdtemp, rm, statfs } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ask } from '../../cli/mount-query.js';
import { buildCliIfStale } from '../helpers/fresh-build.js';
import { forceUnmount, isMounted, type TestMount, withMount } from '../helpers/mount.js';
import { assertReplayClean, assertSpaceAccounted } from '../helpers/mount-checks.js';
import { rng } from '../helpers/rng.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const SEED = Number(process.env.WINDOWS_SEED ?? Date.now() % 2 ** 31);
const STEPS = 400;

console.log(`write windows seed ${SEED} (repeat with WINDOWS_SEED=${SEED})`);

test.before(buildCliIfStale);

async function windowWrites(m: TestMount): Promise<number> {
  return ((await ask(m.dir, { op: 'counters' })) as Record<string, number>).write_window_writes ?? 0;
}

/**
 * statfs agrees with the tree once the blocks freed by the open transaction are free: commit
 * (scoutfs sync), then allow the release, which waits for device reads in flight, a moment.
 */
async function assertSpaceSettled(m: TestMount, what: string): Promise<void> {
  const r = await m.cli('sync', m.dir);
  assert.is(r.code, 0, r.stderr);
  for (let i = 0; ; i++) {
    try {
      await assertSpaceAccounted(m.dir, what);
      return;
    } catch (err) {
      if (i >= 20) throw err;
      await sleep(100);
    }
  }
}

/** `n` bytes no other call gives: a counter stamped every 8 bytes over a seeded start. */
let stampNext = 1;
function data(n: number): Buffer {
  const b = Buffer.alloc(n);
  const tag = stampNext++;
  for (let i = 0; i + 8 <= n; i += 8) {
    b.writeUInt32LE(tag, i);
    b.writeUInt32LE(i, i + 4);
  }
  return b;
}

/** Write `n` FUSE-sized (128 KiB) pieces of fresh data through `fd`; what was written. */
function writeChunks(fd: number, n: number): Buffer {
  const out: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    const b = data(128 * KiB);
    writeSync(fd, b);
    out.push(b);
  }
  return Buffer.concat(out);
}

/** Open both twins the same way; the pair of descriptors. */
function openTwin(paths: [string, string], flags: number): [number, number] {
  return [openSync(paths[0], flags, 0o644), openSync(paths[1], flags, 0o644)];
}

function assertSameFile(mountPath: string, localPath: string, what: string): void {
  const a = readFileSync(mountPath);
  const b = readFileSync(localPath);
  assert.is(a.length, b.length, `${what}: size`);
  if (!a.equals(b)) {
    const i = a.findIndex((x, k) => x !== b[k]);
    assert.unreachable(`${what}: byte ${i} is ${a[i]}, expected ${b[i]}`);
  }
}

test('write windows - a sequential writer and everything that cuts across its window, against a twin', async () => {
  const local = await mkdtemp(join(tmpdir(), 'scoutfs-ww-'));
  try {
    await withMount(
      async (m) => {
        const r = rng(SEED);
        let names: [string, string] = [join(m.dir, 'a'), join(local, 'a')];
        const writer = openTwin(names, constants.O_RDWR | constants.O_CREAT);
        const other = openTwin(names, constants.O_RDWR);
        const direct = openSync(names[0], constants.O_RDONLY | constants.O_DIRECT);
        let pos = 0;
        let size = 0;
        let sequential = 0;
        const before = await windowWrites(m);
        const both = (fn: (i: 0 | 1) => void) => {
          fn(0);
          fn(1);
        };
        try {
          for (let step = 0; step < STEPS; step++) {
            const what = `step ${step} (seed ${SEED})`;
            const x = r.int(100);
            if (x < 60) {
              // the writer goes on where it is, mostly in FUSE-sized pieces
              const len = [128 * KiB, 128 * KiB, 128 * KiB, 256 * KiB, 64 * KiB, 4 * KiB, 1000][r.int(7)]!;
              const buf = data(len);
              both((i) => assert.is(writeSync(writer[i], buf, 0, len, pos), len, `${what}: write`));
              pos += len;
              size = Math.max(size, pos);
              sequential += Math.ceil(len / (128 * KiB));
            } else if (x < 68) {
              // cut (or grow) the file by path; the writer keeps its offset
              const to = r.int(3) === 0 ? size + r.int(512 * KiB) : r.int(size + 1);
              both((i) => truncateSync(names[i], to));
              size = to;
            } else if (x < 76) {
              // another handle writes somewhere, maybe right where the writer is going
              const at = r.int(3) === 0 ? pos : r.int(size + 256 * KiB);
              const len = 1 + r.int(300 * KiB);
              const buf = data(len);
              both((i) => assert.is(writeSync(other[i], buf, 0, len, at), len, `${what}: other write`));
              size = Math.max(size, at + len);
            } else if (x < 80) {
              both((i) => fsyncSync(writer[i]));
            } else if (x < 88) {
              const st = statSync(names[0]);
              assert.is(st.size, size, `${what}: stat size`);
              assert.is(fstatSync(writer[0]).size, size, `${what}: fstat size`);
              // blocks a window reserved but did not write are not the file's
              assert.ok(
                st.blocks * 512 <= Math.ceil(size / 4096) * 4096,
                `${what}: ${st.blocks} blocks of 512 for ${size} bytes`,
              );
            } else if (x < 96) {
              const at = r.int(Math.max(1, size));
              const len = 1 + r.int(512 * KiB);
              const got = Buffer.alloc(len, 0xee);
              const want = Buffer.alloc(len, 0xee);
              const n = readSync(direct, got, 0, len, at);
              const k = readSync(other[1], want, 0, len, at);
              assert.is(n, k, `${what}: bytes read at ${at}`);
              if (!got.subarray(0, n).equals(want.subarray(0, n))) {
                const i = got.findIndex((b, j) => b !== want[j]);
                assert.unreachable(
                  `${what}: read at ${at}: byte ${at + i} is ${got[i]}, expected ${want[i]}`,
                );
              }
            } else if (x < 98) {
              const next: [string, string] = names[0].endsWith('a')
                ? [join(m.dir, 'b'), join(local, 'b')]
                : [join(m.dir, 'a'), join(local, 'a')];
              both((i) => renameSync(names[i], next[i]));
              names = next;
            } else {
              const mode = [0o600, 0o644, 0o640][r.int(3)]!;
              both((i) => chmodSync(names[i], mode));
            }
          }
        } finally {
          for (const fd of [...writer, ...other, direct]) closeSync(fd);
        }
        const answered = (await windowWrites(m)) - before;
        assert.ok(
          answered > sequential / 2,
          `only ${answered} of the writer's ~${sequential} FUSE writes were answered by write windows`,
        );
        assertSameFile(names[0], names[1], 'at the end');
        await assertSpaceSettled(m, 'after the run');
        await m.unmount();
        await assertReplayClean(m.device);
        await m.remount();
        assertSameFile(names[0], names[1], 'after the remount');
      },
      { size: '512M' },
    );
  } finally {
    await rm(local, { recursive: true, force: true });
  }
});

test('write windows - mtime is the last write, and sync shows the file at a new data_seq', async () => {
  await withMount(async (m) => {
    const path = join(m.dir, 'f');
    const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT, 0o644);
    const walk = async () => {
      const r = await m.cli('walk-inodes', '--json', 'data_seq', '0', '-1', m.dir);
      assert.is(r.code, 0, r.stderr);
      return r.stdout
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { major: number; ino: number });
    };
    try {
      const ino = fstatSync(fd).ino;
      writeChunks(fd, 8);
      const first = (await walk()).find((e) => e.ino === ino);
      assert.ok(first, 'the file is in data_seq after its first writes and a walk');
      const windowed = await windowWrites(m);
      const t0 = Date.now();
      writeChunks(fd, 16);
      const t1 = Date.now();
      assert.ok((await windowWrites(m)) > windowed, 'the writes went through a window');
      await sleep(1500);
      // the filesystem maps the window's writes after this (or its timer did): the time is the
      // binding's last write, between t0 and t1, not now
      const st = statSync(path);
      assert.is(st.size, 24 * 128 * KiB);
      assert.ok(
        st.mtimeMs >= t0 - 50 && st.mtimeMs <= t1 + 50,
        `mtime ${st.mtimeMs} is not the last write's time (${t0}..${t1})`,
      );
      assert.is(st.ctimeMs, st.mtimeMs, 'ctime moves with the write');
      const synced = await m.cli('sync', m.dir);
      assert.is(synced.code, 0, synced.stderr);
      const again = (await walk()).find((e) => e.ino === ino);
      assert.ok(
        again && again.major > first!.major,
        `data_seq did not move: ${first?.major} -> ${again?.major}`,
      );
    } finally {
      closeSync(fd);
    }
  });
});

test('write windows - a file unlinked while a window writes it lives until the last close, then its blocks are free', async () => {
  await withMount(
    async (m) => {
      const path = join(m.dir, 'gone');
      const free0 = (await statfs(m.dir)).bfree;
      const fd = openSync(path, constants.O_RDWR | constants.O_CREAT, 0o644);
      const direct = openSync(path, constants.O_RDONLY | constants.O_DIRECT);
      try {
        const before = writeChunks(fd, 64);
        unlinkSync(path);
        const whole = Buffer.concat([before, writeChunks(fd, 64)]);
        assert.is(fstatSync(fd).size, whole.length);
        const got = Buffer.alloc(whole.length);
        let n = 0;
        while (n < got.length) {
          const k = readSync(direct, got, n, Math.min(MiB, got.length - n), n);
          if (k <= 0) break;
          n += k;
        }
        assert.is(n, whole.length, 'bytes read back through the open descriptor');
        assert.ok(got.equals(whole), 'the unlinked file reads back what was written');
        // 16 MiB written: 4096 blocks of 4 KiB
        const held = free0 - (await statfs(m.dir)).bfree;
        assert.ok(held >= 4096, `the open file holds ${held} blocks, not its 4096`);
      } finally {
        closeSync(fd);
        closeSync(direct);
      }
      // the release is answered after the kernel's close: give it a moment
      let free = 0;
      for (let i = 0; i < 50 && free < free0; i++) {
        free = Number((await statfs(m.dir)).bfree);
        if (free < free0) await sleep(100);
      }
      assert.is(
        free,
        Number(free0),
        'every block of the file (and of its windows) is free after the last close',
      );
      await assertSpaceSettled(m, 'after the close');
    },
    { size: '256M' },
  );
});

test("write windows - SIGKILL after an fsync: the fsync'd bytes survive, no block stays reserved", async () => {
  await withMount(
    async (m) => {
      const path = join(m.dir, 'durable');
      const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT, 0o644);
      let synced: Buffer = Buffer.alloc(0);
      let killed = false;
      try {
        synced = writeChunks(fd, 96);
        fsyncSync(fd);
        // more through the window, never fsync'd
        writeChunks(fd, 40);
        assert.ok((await windowWrites(m)) > 100, 'the writes went through windows');
        process.kill(m.pid(), 'SIGKILL');
        killed = true;
      } finally {
        try {
          closeSync(fd);
        } catch {
          // the mount is dead: ENOTCONN
        }
      }
      assert.ok(killed);
      for (let i = 0; i < 50 && isMounted(m.dir); i++) {
        forceUnmount(m.dir);
        await sleep(100);
      }
      await assertReplayClean(m.device, 'the crashed image');
      await m.remount();
      const back = readFileSync(path);
      assert.ok(back.length >= synced.length, `size ${back.length} is below the fsync'd ${synced.length}`);
      assert.ok(back.subarray(0, synced.length).equals(synced), "the fsync'd bytes are intact");
      await assertSpaceAccounted(m.dir, 'after the remount');
    },
    { size: '256M' },
  );
});

test('write windows - two writers side by side keep their windows, and a change elsewhere closes neither', async () => {
  await withMount(
    async (m) => {
      const paths = [join(m.dir, 'one'), join(m.dir, 'two')];
      const fds = paths.map((p) => openSync(p, constants.O_WRONLY | constants.O_CREAT, 0o644));
      const model: Buffer[][] = [[], []];
      const before = await windowWrites(m);
      try {
        for (let i = 0; i < 96; i++) {
          for (const k of [0, 1]) model[k]!.push(writeChunks(fds[k]!, 1));
          // a change to another inode now and then
          if (i % 16 === 8) chmodSync(m.dir, 0o755);
        }
      } finally {
        for (const fd of fds) closeSync(fd);
      }
      const answered = (await windowWrites(m)) - before;
      assert.ok(answered > 150, `only ${answered} of 192 writes were answered by write windows`);
      for (const k of [0, 1])
        assert.ok(readFileSync(paths[k]!).equals(Buffer.concat(model[k]!)), `file ${k}`);
      await assertSpaceSettled(m, 'after both writers');
    },
    { size: '256M' },
  );
});

test('write windows - ENOSPC comes when the device is full, not while a window holds blocks; space freed is usable', async () => {
  await withMount(
    async (m) => {
      // a second writer keeps a window (reserved blocks) open the whole time
      const holder = openSync(join(m.dir, 'holder'), constants.O_WRONLY | constants.O_CREAT, 0o644);
      const filler = openSync(join(m.dir, 'filler'), constants.O_WRONLY | constants.O_CREAT, 0o644);
      let full = false;
      try {
        writeChunks(holder, 4);
        for (let i = 0; i < 100_000 && !full; i++) {
          try {
            writeChunks(filler, 1);
          } catch (err) {
            assert.is((err as NodeJS.ErrnoException).code, 'ENOSPC');
            full = true;
          }
        }
        assert.ok(full, 'the device filled up');
        const left = Number((await statfs(m.dir)).bfree);
        assert.ok(left < 64, `ENOSPC with ${left} blocks still free`);
      } finally {
        closeSync(filler);
        closeSync(holder);
      }
      unlinkSync(join(m.dir, 'filler'));
      // the freed blocks come back once their transaction commits
      const again = openSync(join(m.dir, 'again'), constants.O_WRONLY | constants.O_CREAT, 0o644);
      try {
        writeChunks(again, 64);
        fsyncSync(again);
      } finally {
        closeSync(again);
      }
      await assertSpaceSettled(m, 'after the device filled and was emptied');
      await m.unmount();
      await assertReplayClean(m.device);
    },
    { size: '96M' },
  );
});

test('write windows - off with nowrite_windows: the same writes all reach JS', async () => {
  await withMount(
    async (m) => {
      const path = join(m.dir, 'f');
      const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT, 0o644);
      let written: Buffer = Buffer.alloc(0);
      try {
        written = writeChunks(fd, 32);
      } finally {
        closeSync(fd);
      }
      assert.is(await windowWrites(m), 0);
      assert.ok(readFileSync(path).equals(written));
    },
    { options: ['nowrite_windows'] },
  );
});

test.run();
