/*
 * POSIX behaviour that depends on what the FUSE binding carries between the kernel and the
 * filesystem, kept apart so it can be judged on its own while the binding is being fixed.
 *
 * Stock fuse-native 2.2.6 passes times in milliseconds, gives utimens atime twice (an explicit
 * mtime is lost), does not say who is calling (so a non-root user's files are root's), turns
 * paths into JavaScript strings (bytes that are not UTF-8 become U+FFFD), and neither passes
 * the caller's buffer size to getxattr and listxattr nor checks it (no ERANGE; a short
 * listxattr buffer throws inside the binding). libfuse 2's path API gives chmod, chown and
 * utimens no file handle, so once an open file has no name (hard_remove) they cannot find it.
 * Every test asserts what Linux does.
 */

import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  closeSync,
  fchmodSync,
  fchownSync,
  fstatSync,
  futimesSync,
  openSync,
  readdirSync,
  readFileSync,
  statSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { withMount } from '../helpers/mount.js';
import { errnoAs, errnoOf, freshDirs, NOBODY, runAs, sh, suiteMount } from '../helpers/posix.js';

const mnt = suiteMount(test);
/** A fresh directory (0755, root's) in the mount for one test. */
const fresh = freshDirs(test, mnt);

/** Run a python3 program with `args` as sys.argv[1:]; its stdout. */
function python(program: string, ...args: string[]): string {
  const r = spawnSync('python3', ['-c', program, ...args], { encoding: 'utf8', timeout: 30_000 });
  if (r.error) throw new Error(`python3 is needed here: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`python3 failed: ${r.stderr}`);
  return r.stdout.trim();
}

/**
 * getxattr(2) or listxattr(2) (`call`) on `path` through libc with a buffer of `size` bytes:
 * "result errno", errno empty on success.
 */
function xattrCall(call: 'get' | 'list', path: string, size: number, name = ''): string {
  return python(
    [
      'import ctypes, errno, sys',
      'libc = ctypes.CDLL(None, use_errno=True)',
      'path, call, size, name = sys.argv[1].encode(), sys.argv[2], int(sys.argv[3]), sys.argv[4].encode()',
      'buf = ctypes.create_string_buffer(max(size, 1)) if size else None',
      "r = libc.getxattr(path, name, buf, size) if call == 'get' else libc.listxattr(path, buf, size)",
      "print(r, errno.errorcode.get(ctypes.get_errno(), '') if r < 0 else '')",
    ].join('\n'),
    path,
    call,
    String(size),
    name,
  );
}

test('utimensat - an explicit mtime with atime omitted (touch -m -d) sets mtime alone', () => {
  const d = fresh();
  const p = join(d, 'f');
  writeFileSync(p, '');
  utimesSync(p, 1_000_000_000, 1_000_000_000);
  sh('touch', '-m', '-d', '2001-02-03 04:05:06 UTC', p);
  assert.is(sh('stat', '-c', '%X %Y', p), '1000000000 981173106\n');
});

test('utimensat - an explicit atime with mtime omitted (touch -a -d) sets atime alone', () => {
  const d = fresh();
  const p = join(d, 'f');
  writeFileSync(p, '');
  utimesSync(p, 1_000_000_000, 1_000_000_000);
  sh('touch', '-a', '-d', '2001-02-03 04:05:06 UTC', p);
  assert.is(sh('stat', '-c', '%X %Y', p), '981173106 1000000000\n');
});

test('utimensat - different atime and mtime are both kept', () => {
  const d = fresh();
  const p = join(d, 'f');
  writeFileSync(p, '');
  utimesSync(p, 1_111_111_111, 1_222_222_222);
  assert.is(sh('stat', '-c', '%X %Y', p), '1111111111 1222222222\n');
  sh('touch', '-m', '-d', '@1333333333', p);
  sh('touch', '-a', '-d', '@1444444444', p);
  assert.is(sh('stat', '-c', '%X %Y', p), '1444444444 1333333333\n');
});

test('times - nanoseconds are kept', () => {
  const d = fresh();
  const p = join(d, 'f');
  writeFileSync(p, '');
  sh('touch', '-d', '2001-02-03 04:05:06.123456789 UTC', p);
  assert.is(sh('stat', '-c', '%.9X %.9Y', p), '981173106.123456789 981173106.123456789\n');
  sh('touch', '-m', '-d', '@1.000000001', p);
  assert.is(sh('stat', '-c', '%.9Y', p), '1.000000001\n');
  writeFileSync(join(d, 'now'), '');
  const ns = statSync(join(d, 'now'), { bigint: true }).mtimeNs % 1_000_000n;
  const many = [0, 1, 2, 3, 4].map((i) => {
    writeFileSync(join(d, `now${i}`), '');
    return statSync(join(d, `now${i}`), { bigint: true }).mtimeNs % 1_000_000n;
  });
  assert.ok(
    [ns, ...many].some((x) => x !== 0n),
    'a file made now has a time finer than a millisecond',
  );
});

test('create - files, directories, symlinks and fifos a non-root user makes are its own', () => {
  const d = fresh();
  chmodSync(d, 0o1777);
  const [file, dir, link, fifo] = ['file', 'dir', 'link', 'fifo'].map((x) => join(d, x)) as [
    string,
    string,
    string,
    string,
  ];
  assert.is(errnoAs(NOBODY, "fs.writeFileSync(a[0], 'mine')", file), 'no error');
  assert.is(errnoAs(NOBODY, 'fs.mkdirSync(a[0])', dir), 'no error');
  assert.is(errnoAs(NOBODY, "fs.symlinkSync('file', a[0])", link), 'no error');
  assert.is(runAs(NOBODY, 'mkfifo', [fifo]).status, 0);
  for (const p of [file, dir, fifo]) assert.is(sh('stat', '-c', '%u:%g', p), '65534:65534\n', p);
  assert.is(sh('stat', '-c', '%u:%g', link), '65534:65534\n', 'the symlink itself');
  // so the sticky bit lets it remove what it made, and it can chmod its own file
  assert.is(errnoAs(NOBODY, 'fs.chmodSync(a[0], 0o600)', file), 'no error');
  assert.is(errnoAs(NOBODY, 'fs.unlinkSync(a[0])', file), 'no error');
  assert.is(errnoAs(NOBODY, 'fs.rmdirSync(a[0])', dir), 'no error');
});

test('create - in a setgid directory a non-root user gets its own uid and the directory group', () => {
  const d = fresh();
  chownSync(d, 0, 4242);
  chmodSync(d, 0o2777);
  assert.is(errnoAs(NOBODY, "fs.writeFileSync(a[0], '')", join(d, 'f')), 'no error');
  assert.is(sh('stat', '-c', '%u:%g', join(d, 'f')), '65534:4242\n');
});

test('getxattr - a buffer too small for the value is ERANGE; a size query gives the exact size', () => {
  const d = fresh();
  const p = join(d, 'f');
  writeFileSync(p, '');
  sh('setfattr', '-n', 'user.v', '-v', 'x'.repeat(200), p);
  assert.is(xattrCall('get', p, 0, 'user.v'), '200');
  assert.is(xattrCall('get', p, 200, 'user.v'), '200');
  assert.is(xattrCall('get', p, 10, 'user.v'), '-1 ERANGE');
  // python's os.getxattr starts with a 128-byte buffer and grows it on ERANGE
  assert.is(python('import os, sys\nprint(len(os.getxattr(sys.argv[1], "user.v")))', p), '200');
});

test('listxattr - a size query gives the exact size; a buffer too small is ERANGE', () => {
  const d = fresh();
  const p = join(d, 'f');
  writeFileSync(p, '');
  sh('setfattr', '-n', 'user.a', '-v', '1', p);
  sh('setfattr', '-n', 'user.bb', '-v', '2', p);
  assert.is(xattrCall('list', p, 0), '15', '"user.a\\0user.bb\\0"');
  assert.is(xattrCall('list', p, 15), '15');
});

test('listxattr - a buffer too small is ERANGE, and the mount keeps serving', async () => {
  await withMount(async (m) => {
    const p = join(m.dir, 'f');
    writeFileSync(p, 'still here');
    sh('setfattr', '-n', 'user.one', '-v', '1', p);
    sh('setfattr', '-n', 'user.two', '-v', '2', p);
    const short = xattrCall('list', p, 3);
    assert.is(
      errnoOf(() => readFileSync(p, 'utf8')),
      'no error',
      'the mount still answers',
    );
    assert.is(short, '-1 ERANGE');
  });
});

test('unlinked open file - fchmod, fchown and futimes still reach it', () => {
  const d = fresh();
  const p = join(d, 'orphan');
  const fd = openSync(p, 'w+');
  try {
    unlinkSync(p);
    assert.is(
      errnoOf(() => fchmodSync(fd, 0o600)),
      'no error',
    );
    assert.is(
      errnoOf(() => fchownSync(fd, 7, 8)),
      'no error',
    );
    assert.is(
      errnoOf(() => futimesSync(fd, 1_000_000_000, 1_000_000_000)),
      'no error',
    );
    const st = fstatSync(fd);
    assert.equal([st.mode & 0o7777, st.uid, st.gid, st.mtimeMs], [0o600, 7, 8, 1e12]);
  } finally {
    closeSync(fd);
  }
});

test('names - any bytes but "/" and NUL: names that are not UTF-8 are kept exactly', () => {
  const d = fresh();
  const name = (...bytes: number[]) => Buffer.concat([Buffer.from(`${d}/raw-`), Buffer.from(bytes)]);
  writeFileSync(name(0xff), 'ff');
  writeFileSync(name(0xfe), 'fe');
  writeFileSync(name(0xc3, 0x28), 'bad utf-8 pair');
  const listed = readdirSync(d, { encoding: 'buffer' }).map((b) => b.toString('hex'));
  assert.equal(listed.sort(), ['7261772dc328', '7261772dfe', '7261772dff']);
  assert.is(readFileSync(name(0xff), 'utf8'), 'ff');
  assert.is(readFileSync(name(0xfe), 'utf8'), 'fe', 'a different name is a different file');
});

test('create - the attributes create answers with are the file’s (kernel caching them 30 s)', async () => {
  // libfuse asks for a new file's attributes right after create; the patched binding answers
  // that from what create gave it. With a long attribute timeout the kernel keeps those
  // answers, so fstat right after open(O_CREAT) shows them; dropping the kernel's caches makes
  // a later stat ask the filesystem again. Both must agree, for every file of a run.
  const fields =
    'st.st_ino, st.st_mode, st.st_uid, st.st_gid, st.st_nlink, st.st_size, st.st_mtime_ns, st.st_ctime_ns';
  await withMount(
    async (m) => {
      const made = python(
        [
          'import os, sys, json',
          'out = []',
          'for i in range(6):',
          "    fd = os.open(os.path.join(sys.argv[1], f'f{i}'), os.O_CREAT | os.O_WRONLY, 0o640 if i % 2 else 0o600)",
          `    st = os.fstat(fd); os.close(fd); out.append([${fields}])`,
          'print(json.dumps(out))',
        ].join('\n'),
        m.dir,
      );
      writeFileSync('/proc/sys/vm/drop_caches', '2\n');
      const read = python(
        [
          'import os, sys, json',
          `print(json.dumps([[${fields}] for st in (os.stat(os.path.join(sys.argv[1], f'f{i}')) for i in range(6))]))`,
        ].join('\n'),
        m.dir,
      );
      const a = JSON.parse(made) as number[][];
      assert.equal(a, JSON.parse(read));
      assert.is(new Set(a.map((x) => x[0])).size, 6, 'six inode numbers');
      assert.equal(
        a.map((x) => (x[1] as number) & 0o7777),
        [0o600, 0o640, 0o600, 0o640, 0o600, 0o640],
      );
    },
    { options: ['attr_timeout=30', 'entry_timeout=30'] },
  );
});

test.run();
