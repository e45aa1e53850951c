/*
 * The seed's quick start, as written, on a file and on a loop device: mkfs, `mount -t scoutfs`
 * through the mount.scoutfs helper, walk-inodes, touch, sync(1), walk-inodes again; then the
 * control-channel commands (stat, statfs, df, ino-path, sync) and the ways to unmount.
 */

import { execFileSync, spawn, spawnSync } from 'node:child_process';
import {
  closeSync,
  constants,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { assertRefused, buildCli, ROOT, scoutfs } from '../helpers/cli.js';
import { forceUnmount, isMounted, servingPid, withMount } from '../helpers/mount.js';

const HELPER = '/sbin/mount.scoutfs';

test.before(() => {
  buildCli();
  const target = join(ROOT, 'bin', 'mount.scoutfs.js');
  if (!existsSync(HELPER) || readlinkSync(HELPER) !== target) {
    execFileSync('npm', ['run', '-s', 'install-mount-helper'], { cwd: ROOT, stdio: 'pipe' });
  }
});

type Row = { seq: number; ino: number };
function parseWalk(out: string): Row[] {
  const lines = out.trim().split('\n');
  assert.is(lines[0], '#  major  minor  ino', 'walk-inodes header');
  return lines.slice(1).map((l) => {
    const m = /^(\d+) {2}0 {2}(\d+)$/.exec(l);
    assert.ok(m, `row "${l}" is "seq  0  ino"`);
    return { seq: Number(m![1]), ino: Number(m![2]) };
  });
}

async function walk(dir: string, index = 'meta_seq', first = '0', last = '-1'): Promise<Row[]> {
  const r = await scoutfs('walk-inodes', index, first, last, dir);
  assert.is(r.code, 0, r.stderr);
  return parseWalk(r.stdout);
}

async function quickStart(loop: boolean) {
  const scratch = mkdtempSync(join(tmpdir(), 'scoutfs-qs-'));
  const image = join(scratch, 'shared.img');
  const dir = join(scratch, 'mnt');
  mkdirSync(dir);
  execFileSync('truncate', ['-s', '256M', image]);
  const device = loop ? execFileSync('losetup', ['-f', '--show', image], { encoding: 'utf8' }).trim() : image;
  try {
    assert.is((await scoutfs('mkfs', '-Q', '1', device)).code, 0);
    const m = spawnSync('mount', ['-t', 'scoutfs', '-o', 'server_address=127.0.0.1', device, dir], {
      encoding: 'utf8',
    });
    assert.is(m.status, 0, `mount -t scoutfs: ${m.stderr}`);
    assert.ok(isMounted(dir));

    const before = await walk(dir);
    assert.equal(
      before.map((r) => r.ino),
      [1],
      'only the root inode',
    );
    writeFileSync(join(dir, 'placeholder'), '');
    execFileSync('touch', [join(dir, 'one')]);
    execFileSync('sync');
    const after = await walk(dir);
    const one = statSync(join(dir, 'one')).ino;
    const row = after.find((r) => r.ino === one);
    assert.ok(row, 'the touched inode is in meta_seq');
    assert.ok(row!.seq > before[0]!.seq, 'at a higher seq than the root had');
    assert.equal(
      after.map((r) => r.seq),
      [...after.map((r) => r.seq)].sort((a, b) => a - b),
      'rows in seq order',
    );

    // touching it again moves it: it reappears at a higher meta_seq and only once
    execFileSync('touch', [join(dir, 'one')]);
    const again = await walk(dir);
    const rows = again.filter((r) => r.ino === one);
    assert.is(rows.length, 1);
    assert.ok(rows[0]!.seq > row!.seq, 'touched inode reappears at a higher meta_seq');
    // a walk from just past the old seq finds exactly the changed inodes
    const since = await walk(dir, 'meta_seq', String(row!.seq + 1));
    assert.ok(since.some((r) => r.ino === one));
    assert.not.ok(since.some((r) => r.ino === statSync(join(dir, 'placeholder')).ino));

    assert.is(spawnSync('umount', [dir]).status, 0, 'umount');
    await waitUnmounted(dir);
  } finally {
    if (isMounted(dir)) forceUnmount(dir);
    if (loop) spawnSync('losetup', ['-d', device]);
    rmSync(scratch, { recursive: true, force: true });
  }
}

async function waitUnmounted(dir: string) {
  for (let i = 0; i < 100 && isMounted(dir); i++) await new Promise((r) => setTimeout(r, 50));
  assert.not.ok(isMounted(dir), 'unmounted');
}

test('quick start - runs as written on a file-backed device', () => quickStart(false));
test('quick start - runs as written on a loop device', () => quickStart(true));

test('control commands - stat, statfs, df, ino-path, sync and data_seq through a mount', async () => {
  await withMount(async (m) => {
    mkdirSync(join(m.dir, 'a'));
    writeFileSync(join(m.dir, 'a', 'f'), Buffer.alloc(10000, 1));
    execFileSync('ln', [join(m.dir, 'a', 'f'), join(m.dir, 'g')]);
    const ino = statSync(join(m.dir, 'a', 'f')).ino;

    const st = await m.cli('stat', '--json', join(m.dir, 'g'));
    assert.is(st.code, 0, st.stderr);
    const s = JSON.parse(st.stdout);
    assert.is(s.ino, ino);
    assert.is(s.online_blocks, 3);
    assert.is(s.offline_blocks, 0);
    assert.ok(s.data_seq > 0 && s.meta_seq >= s.data_seq);
    const plain = await m.cli('stat', join(m.dir, 'g'));
    assert.match(
      plain.stdout,
      /^ino\s+\d+\nmeta_seq\s+\d+\ndata_seq\s+\d+\ndata_version\s+\d+\nonline_blocks\s+3\noffline_blocks\s+0\ncrtime\s+\d+\.\d{9}\n$/,
    );

    const sync = await m.cli('sync', m.dir);
    assert.match(sync.stdout, /^committed seq \d+\n$/);
    const committed = Number(/\d+/.exec(sync.stdout)![0]);
    const fs1 = JSON.parse((await m.cli('statfs', '--json', m.dir)).stdout);
    assert.is(fs1.committedSeq, committed);
    assert.is(fs1.inodes, 3);
    assert.ok(fs1.freeDataBlocks < fs1.totalDataBlocks);

    const df = await m.cli('df', m.dir);
    assert.match(
      df.stdout,
      /MetaData\s+4096\s+\d+\s+\d+\s+\d+\s+\d+%\n\s*Data\s+4096\s+\d+\s+3\s+\d+\s+\d+%/,
    );

    const paths = await m.cli('ino-path', String(ino), m.dir);
    assert.equal(paths.stdout.trim().split('\n').sort(), ['/a/f', '/g']);

    const data = await walk(m.dir, 'data_seq');
    assert.ok(
      data.some((r) => r.ino === ino && r.seq === s.data_seq),
      'data_seq row matches stat',
    );
    assert.not.ok(
      data.some((r) => r.ino === 1),
      'directories are not in data_seq',
    );

    const json = await m.cli('walk-inodes', '--json', 'meta_seq', '0', '-1', m.dir);
    const objs = json.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.ok(objs.every((o) => o.index === 'meta_seq' && o.minor === 0));
  });
});

test('mount - refuses a second mount of the same slot, bad options and foreign devices', async () => {
  await withMount(async (m) => {
    const other = join(m.scratch, 'other');
    mkdirSync(other);
    try {
      assertRefused(
        await scoutfs('mount', m.device, other),
        1,
        /EBUSY: .* slot 0 is already mounted at .* by process \d+/,
      );
      // the same volume through another slot, or through a loop device over its file, is the same
      // volume: a second writer that knows nothing of the first would corrupt it
      const volumeBusy = /EBUSY: volume [0-9a-f]{16} is already mounted by .* slot 0 at .* \(process \d+\)/;
      assertRefused(await scoutfs('mount', '-o', 'slot=1', m.device, other), 1, volumeBusy);
      const loop = execFileSync('losetup', ['-f', '--show', m.device], { encoding: 'utf8' }).trim();
      try {
        assertRefused(await scoutfs('mount', loop, other), 1, volumeBusy);
      } finally {
        spawnSync('losetup', ['-d', loop]);
      }
      assert.not.ok(isMounted(other));
      assertRefused(
        await scoutfs('mount', '-o', 'bogus=1', m.device, other),
        2,
        /unknown mount option "bogus=1"/,
      );
      assertRefused(
        await scoutfs('mount', '-o', 'attr_timeout=x', m.device, other),
        2,
        /attr_timeout needs a number/,
      );
      assertRefused(
        await scoutfs('mount', '-o', 'read_ahead_kb=2', m.device, other),
        2,
        /read_ahead_kb "2" is not a size from 4 to 65536 KiB/,
      );
      // the mount set the kernel's read-ahead window of its own backing device info
      const dev = execFileSync('mountpoint', ['-d', m.dir], { encoding: 'utf8' }).trim();
      assert.is(readFileSync(`/sys/class/bdi/${dev}/read_ahead_kb`, 'utf8').trim(), '1024');
      const junk = join(m.scratch, 'junk.img');
      execFileSync('truncate', ['-s', '64M', junk]);
      writeFileSync(join(m.scratch, 'notdir'), '');
      assertRefused(await scoutfs('mount', junk, join(m.scratch, 'notdir')), 2, /not a directory/);
      const r = await scoutfs('mount', junk, other);
      assert.is(r.code, 1);
      assert.match(r.stderr, /not a scoutfs|magic|superblock/i);
      assert.not.ok(isMounted(other));
      assertRefused(
        await scoutfs('walk-inodes', 'meta_seq', '0', '-1', m.scratch),
        2,
        /not in a mounted scoutfs filesystem/,
      );
    } finally {
      // a refusal that did not happen must not leave its mount behind
      if (isMounted(other)) {
        const r = await scoutfs('umount', other).catch(() => null);
        if (r?.code !== 0 || isMounted(other)) forceUnmount(other);
      }
    }
  });
});

test('mount - two mounts of one volume started at once, through two paths: exactly one serves', async () => {
  const scratch = mkdtempSync(join(tmpdir(), 'scoutfs-claim-'));
  const image = join(scratch, 'volume.img');
  const alias = join(scratch, 'alias.img');
  const dirs = [join(scratch, 'a'), join(scratch, 'b')];
  for (const d of dirs) mkdirSync(d);
  try {
    execFileSync('truncate', ['-s', '256M', image]);
    assert.is((await scoutfs('mkfs', '-Q', '1', image)).code, 0);
    execFileSync('ln', [image, alias]); // a hard link: another path, the same file
    // both pass the early check before either serving process has claimed the volume, so the
    // serving processes' claims decide
    const [a, b] = await Promise.all([scoutfs('mount', image, dirs[0]!), scoutfs('mount', alias, dirs[1]!)]);
    const won = [a, b].filter((r) => r.code === 0).length;
    assert.is(won, 1, `one mount serves: ${a.stderr} | ${b.stderr}`);
    const lost = a.code === 0 ? b : a;
    // refused by the serving process's claim, and told as EBUSY by the parent
    assert.match(lost.stderr, /EBUSY: volume [0-9a-f]{16} is already mounted by /);
    assert.is(dirs.filter((d) => isMounted(d)).length, 1);
  } finally {
    for (const d of dirs) {
      if (isMounted(d)) {
        const r = await scoutfs('umount', d).catch(() => null);
        if (r?.code !== 0 || isMounted(d)) forceUnmount(d);
      }
    }
    rmSync(scratch, { recursive: true, force: true });
  }
});

test('mount - a block device another process holds open for writing is refused (EBUSY)', async () => {
  // a mount in another network namespace does not see the volume claim; the kernel's exclusive
  // claim on the block device is what refuses it (here held by this process, as a stand-in)
  const scratch = mkdtempSync(join(tmpdir(), 'scoutfs-excl-'));
  const image = join(scratch, 'volume.img');
  const dir = join(scratch, 'mnt');
  mkdirSync(dir);
  execFileSync('truncate', ['-s', '256M', image]);
  const loop = execFileSync('losetup', ['-f', '--show', image], { encoding: 'utf8' }).trim();
  let held: number | null = null;
  try {
    assert.is((await scoutfs('mkfs', '-Q', '1', loop)).code, 0);
    held = openSync(loop, constants.O_RDWR | constants.O_EXCL);
    assertRefused(
      await scoutfs('mount', loop, dir),
      1,
      /EBUSY: .* is in use: another process holds it open for writing/,
    );
    assert.not.ok(isMounted(dir));
    assertRefused(await scoutfs('mkfs', '-f', '-Q', '1', loop), 1, /EBUSY: .* is in use/);
    closeSync(held);
    held = null;
    const r = await scoutfs('mount', loop, dir);
    assert.is(r.code, 0, r.stderr);
    assert.is((await scoutfs('umount', dir)).code, 0);
  } finally {
    if (held !== null) closeSync(held);
    if (isMounted(dir)) forceUnmount(dir);
    spawnSync('losetup', ['-d', loop]);
    rmSync(scratch, { recursive: true, force: true });
  }
});

test('unmount - umount, fusermount -u, SIGTERM, SIGINT and scoutfs umount all end the serving process cleanly', async () => {
  await withMount(async (m) => {
    const ways: string[][] = [['umount', m.dir], ['fusermount', '-u', m.dir], ['SIGTERM'], ['SIGINT']];
    for (const [i, way] of ways.entries()) {
      writeFileSync(join(m.dir, `f${i}`), `data ${i}`);
      const pid = servingPid(m.dir);
      if (way[0]!.startsWith('SIG')) process.kill(pid, way[0] as NodeJS.Signals);
      else assert.is(spawnSync(way[0]!, way.slice(1)).status, 0, way.join(' '));
      await waitUnmounted(m.dir);
      for (let t = 0; t < 100 && processAlive(pid); t++) await new Promise((r) => setTimeout(r, 50));
      assert.not.ok(processAlive(pid), `${way[0]}: serving process exited`);
      await m.remount();
      assert.is(execFileSync('cat', [join(m.dir, `f${i}`)], { encoding: 'utf8' }), `data ${i}`);
    }
    await m.unmount();
    assert.not.ok(isMounted(m.dir));
    const verify = await scoutfs('replay', m.device, '--verify');
    assert.is(verify.code, 0, verify.stdout + verify.stderr);
  });
});

test('mount -f - serves in the foreground on a machine whose run directory does not exist yet', async () => {
  const scratch = mkdtempSync(join(tmpdir(), 'scoutfs-fg-'));
  const image = join(scratch, 'volume.img');
  const dir = join(scratch, 'mnt');
  // /run is a tmpfs: on a machine that never mounted, /run/scoutfs is not there
  const env = { ...process.env, SCOUTFS_RUN_DIR: join(scratch, 'run', 'scoutfs') };
  mkdirSync(dir);
  execFileSync('truncate', ['-s', '128M', image]);
  const bin = join(ROOT, 'bin', 'scoutfs.js');
  let child: ReturnType<typeof spawn> | null = null;
  try {
    execFileSync(process.execPath, [bin, 'mkfs', '-Q', '1', image], { stdio: 'pipe' });
    const c = spawn(process.execPath, [bin, 'mount', '-f', image, dir], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = c;
    let err = '';
    c.stderr!.on('data', (d) => (err += d));
    const exited = new Promise<number | null>((r) => c.on('exit', (code) => r(code)));
    for (let t = 0; t < 200 && !isMounted(dir) && c.exitCode === null; t++) await sleep(50);
    assert.ok(isMounted(dir), `mounted in the foreground (stderr: ${err})`);
    writeFileSync(join(dir, 'one'), 'one');
    const st = spawnSync(process.execPath, [bin, 'statfs', dir], { env, encoding: 'utf8' });
    assert.is(st.status, 0, `the control channel answers: ${st.stderr}`);
    c.kill('SIGTERM');
    const code = await Promise.race([exited, sleep(30_000).then(() => 'still running after 30 s')]);
    assert.is(code, 0, `clean exit on SIGTERM (stderr: ${err})`);
    child = null;
    assert.not.ok(isMounted(dir));
  } finally {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    if (isMounted(dir)) forceUnmount(dir);
    rmSync(scratch, { recursive: true, force: true });
  }
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test.run();
