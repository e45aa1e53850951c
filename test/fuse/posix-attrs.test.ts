/*
 * POSIX attributes through a real mount: modes and their enforcement for an unprivileged user
 * (the mount uses default_permissions, so the kernel checks the modes and owners the
 * filesystem stores), chown rules, setuid/setgid clearing, setgid and sticky directories,
 * extended attributes in the user, trusted and security namespaces, and times set with
 * utimensat and touch(1).
 *
 * Another user is nobody (65534:65534, no supplementary groups), reached through setpriv.
 * Files a test wants owned by nobody are made by root and chowned, because the stock binding
 * cannot tell the filesystem who created a file (posix-binding.test.ts covers that). Times here
 * are whole seconds, the same for atime and mtime, which even the stock binding carries.
 */

import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  linkSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  symlinkSync,
  truncateSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { errnoAs, errnoOf, freshDirs, NOBODY, runAs, sh, suiteMount } from '../helpers/posix.js';

const mnt = suiteMount(test);
/** A fresh directory (0755, root's) in the mount for one test. */
const fresh = freshDirs(test, mnt);

function mode(p: string): number {
  return statSync(p).mode & 0o7777;
}

/** A file made by root and given to `uid:gid` with `perm`. */
function fileOf(p: string, uid: number, gid: number, perm: number, data = ''): string {
  writeFileSync(p, data);
  chownSync(p, uid, gid);
  chmodSync(p, perm);
  return p;
}

/** Run a python3 program with `args` as sys.argv[1:]; its stdout. */
function python(program: string, ...args: string[]): string {
  const r = spawnSync('python3', ['-c', program, ...args], { encoding: 'utf8', timeout: 30_000 });
  if (r.error) throw new Error(`python3 is needed for xattr flags: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`python3 failed: ${r.stderr}`);
  return r.stdout.trim();
}

/** The errno name a python3 os.* statement raised, or 'no error'. */
function pyErrno(statement: string, ...args: string[]): string {
  return python(
    [
      'import errno, os, sys',
      'a = sys.argv[1:]',
      'try:',
      `    ${statement}`,
      "    print('no error')",
      'except OSError as e:',
      "    print('EOPNOTSUPP' if e.errno == errno.EOPNOTSUPP else errno.errorcode[e.errno])",
    ].join('\n'),
    ...args,
  );
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('chmod - sets the permission bits, special bits included, and moves ctime but not mtime', async () => {
  const d = fresh();
  const p = join(d, 'f');
  writeFileSync(p, 'x');
  const before = statSync(p);
  await sleep(20);
  chmodSync(p, 0o640);
  assert.is(mode(p), 0o640);
  sh('chmod', 'u+s,g+s,o+t', p);
  assert.is(mode(p), 0o7640);
  sh('chmod', '0', p);
  assert.is(mode(p), 0);
  assert.is(sh('stat', '-c', '%A', p), '----------\n');
  const after = statSync(p);
  assert.is(after.mtimeMs, before.mtimeMs, 'mtime unchanged');
  assert.ok(after.ctimeMs > before.ctimeMs, 'ctime moved');
  assert.ok(statSync(p).isFile(), 'the file type is kept');
  chmodSync(d, 0o700);
  assert.ok(statSync(d).isDirectory());
  assert.is(mode(d), 0o700);
});

test('permissions - an unprivileged user is held to the mode bits', () => {
  const d = fresh();
  const secret = fileOf(join(d, 'secret'), 0, 0, 0o600, 'root only');
  const readable = fileOf(join(d, 'readable'), 0, 0, 0o644, 'for all');
  const open = fileOf(join(d, 'open'), 0, 0, 0o666, 'anyone');
  assert.is(errnoAs(NOBODY, 'fs.readFileSync(a[0])', secret), 'EACCES');
  assert.is(errnoAs(NOBODY, 'fs.readFileSync(a[0])', readable), 'no error');
  assert.is(errnoAs(NOBODY, "fs.appendFileSync(a[0], 'x')", readable), 'EACCES');
  assert.is(errnoAs(NOBODY, "fs.appendFileSync(a[0], '!')", open), 'no error');
  assert.is(readFileSync(open, 'utf8'), 'anyone!');
  assert.is(errnoAs(NOBODY, "fs.writeFileSync(a[0] + '/new', '')", d), 'EACCES', 'no create in 0755');
  assert.is(errnoAs(NOBODY, 'fs.unlinkSync(a[0])', open), 'EACCES', 'no unlink in 0755');
  assert.is(errnoAs(NOBODY, "fs.renameSync(a[0], a[0] + '2')", open), 'EACCES');
  assert.is(errnoAs(NOBODY, 'fs.mkdirSync(a[0])', join(d, 'sub')), 'EACCES');
  chmodSync(d, 0o700);
  assert.is(errnoAs(NOBODY, 'fs.readdirSync(a[0])', d), 'EACCES');
  assert.is(errnoAs(NOBODY, 'fs.statSync(a[0])', readable), 'EACCES', 'no search through 0700');
  chmodSync(d, 0o711);
  assert.is(errnoAs(NOBODY, 'fs.readdirSync(a[0])', d), 'EACCES', 'search without read');
  assert.is(errnoAs(NOBODY, 'fs.readFileSync(a[0])', readable), 'no error', 'search is enough to open');
  chmodSync(d, 0o777);
  assert.is(errnoAs(NOBODY, "fs.writeFileSync(a[0] + '/new', 'made')", d), 'no error');
  assert.is(readFileSync(join(d, 'new'), 'utf8'), 'made');
  assert.is(errnoAs(NOBODY, 'fs.unlinkSync(a[0])', open), 'no error', 'unlink needs the dir, not the file');
  const script = fileOf(join(d, 'script'), 0, 0, 0o644, '#!/bin/sh\necho ran\n');
  assert.is(runAs(NOBODY, script, []).status, 126, 'no execute bit at all');
  chmodSync(script, 0o755);
  assert.is(runAs(NOBODY, script, []).stdout, 'ran\n');
});

test("permissions - the owner's bits apply to the owner, even when others may do more", () => {
  const d = fresh();
  const p = fileOf(join(d, 'f'), NOBODY.uid, 0, 0o077, 'x');
  assert.is(errnoAs(NOBODY, 'fs.readFileSync(a[0])', p), 'EACCES');
  chmodSync(p, 0o407);
  chownSync(p, 0, NOBODY.gid);
  assert.is(errnoAs(NOBODY, 'fs.readFileSync(a[0])', p), 'EACCES', 'group bits (none) apply to the group');
  chmodSync(p, 0o440);
  assert.is(errnoAs(NOBODY, 'fs.readFileSync(a[0])', p), 'no error', 'the group may read');
});

test('chmod - only the owner (or root) changes a mode; the owner may', () => {
  const d = fresh();
  const mine = fileOf(join(d, 'mine'), NOBODY.uid, NOBODY.gid, 0o600);
  const roots = fileOf(join(d, 'roots'), 0, 0, 0o666);
  assert.is(errnoAs(NOBODY, 'fs.chmodSync(a[0], 0o644)', mine), 'no error');
  assert.is(mode(mine), 0o644);
  assert.is(errnoAs(NOBODY, 'fs.chmodSync(a[0], 0o600)', roots), 'EPERM');
  assert.is(mode(roots), 0o666);
});

test('chown - root gives a file any owner and group', () => {
  const d = fresh();
  const p = join(d, 'f');
  writeFileSync(p, '');
  chownSync(p, 1234, 5678);
  assert.is(statSync(p).uid, 1234);
  assert.is(statSync(p).gid, 5678);
  sh('chown', '42:43', p);
  assert.is(sh('stat', '-c', '%u:%g', p), '42:43\n');
  sh('chgrp', '7', p);
  assert.is(sh('stat', '-c', '%u:%g', p), '42:7\n');
  sh('chown', '-h', '9:9', d);
  assert.is(sh('stat', '-c', '%u:%g', d), '9:9\n');
  symlinkSync('f', join(d, 'link'));
  sh('chown', '-h', '11:12', join(d, 'link'));
  assert.is(sh('stat', '-c', '%u:%g', join(d, 'link')), '11:12\n', 'the link itself');
  assert.is(sh('stat', '-c', '%u:%g', p), '42:7\n', 'not its target');
});

test('chown - a non-root user gets EPERM, even on its own file; it may chgrp to its own group', () => {
  const d = fresh();
  const mine = fileOf(join(d, 'mine'), NOBODY.uid, 0, 0o644);
  const roots = fileOf(join(d, 'roots'), 0, 0, 0o666);
  assert.is(errnoAs(NOBODY, 'fs.chownSync(a[0], 0, 0)', mine), 'EPERM', 'give away');
  assert.is(errnoAs(NOBODY, 'fs.chownSync(a[0], 1000, -1)', mine), 'EPERM');
  assert.is(errnoAs(NOBODY, 'fs.chownSync(a[0], 65534, 65534)', roots), 'EPERM', 'take');
  assert.is(errnoAs(NOBODY, 'fs.chownSync(a[0], -1, 1000)', mine), 'EPERM', 'a group it is not in');
  assert.is(runAs(NOBODY, 'chown', ['65534', roots]).status, 1);
  assert.is(sh('stat', '-c', '%u:%g', mine), '65534:0\n');
  assert.is(sh('stat', '-c', '%u:%g', roots), '0:0\n');
  assert.is(errnoAs(NOBODY, 'fs.chownSync(a[0], -1, 65534)', mine), 'no error');
  assert.is(sh('stat', '-c', '%u:%g', mine), '65534:65534\n');
});

test('setuid - a write by a non-root user clears setuid, and setgid only with group execute', () => {
  const d = fresh();
  const both = fileOf(join(d, 'both'), 0, 0, 0o6777);
  const sgidNoExec = fileOf(join(d, 'sgid'), 0, 0, 0o2666);
  const byRoot = fileOf(join(d, 'root'), 0, 0, 0o6755);
  assert.is(errnoAs(NOBODY, "fs.appendFileSync(a[0], 'w')", both), 'no error');
  assert.is(mode(both), 0o777);
  assert.is(errnoAs(NOBODY, "fs.appendFileSync(a[0], 'w')", sgidNoExec), 'no error');
  assert.is(mode(sgidNoExec), 0o2666, 'setgid without group execute is a locking mark; it stays');
  writeFileSync(byRoot, 'root writes');
  assert.is(mode(byRoot), 0o6755, 'root (CAP_FSETID) keeps the bits');
  chmodSync(both, 0o4777);
  assert.is(errnoAs(NOBODY, 'fs.truncateSync(a[0], 0)', both), 'no error');
  assert.is(mode(both), 0o777, 'truncate by a non-root user clears setuid too');
});

test('chown - clears setuid and group-execute setgid on a file, even for root; not on a directory', () => {
  const d = fresh();
  const p = fileOf(join(d, 'f'), 0, 0, 0o6755);
  chownSync(p, 1, 1);
  assert.is(mode(p), 0o755);
  chmodSync(p, 0o2715);
  chownSync(p, 2, 2);
  assert.is(mode(p), 0o715, 'setgid with group execute goes');
  chmodSync(p, 0o2644);
  chownSync(p, 3, 3);
  assert.is(mode(p), 0o2644, 'setgid without group execute stays');
  const sub = join(d, 'sub');
  mkdirSync(sub);
  chmodSync(sub, 0o2755);
  chownSync(sub, 4, 4);
  assert.is(mode(sub), 0o2755, 'a directory keeps its setgid');
});

test('setgid directory - new entries take its group; new subdirectories its setgid bit', () => {
  const d = fresh();
  const shared = join(d, 'shared');
  mkdirSync(shared);
  chownSync(shared, 0, 4242);
  chmodSync(shared, 0o2775);
  writeFileSync(join(shared, 'file'), '');
  mkdirSync(join(shared, 'sub'));
  sh('mkfifo', join(shared, 'fifo'));
  assert.is(statSync(join(shared, 'file')).gid, 4242);
  assert.is(statSync(join(shared, 'fifo')).gid, 4242);
  assert.is(statSync(join(shared, 'sub')).gid, 4242);
  assert.is(mode(join(shared, 'sub')) & 0o2000, 0o2000, 'the subdirectory is setgid too');
  assert.is(mode(join(shared, 'file')) & 0o2000, 0, 'a file is not');
  writeFileSync(join(d, 'plain'), '');
  assert.is(statSync(join(d, 'plain')).gid, 0, 'outside it, the creator group');
});

test("sticky directory - only the entry's owner, the directory's owner or root may remove it", () => {
  const d = fresh();
  const tmp = join(d, 'tmp');
  mkdirSync(tmp);
  chmodSync(tmp, 0o1777);
  assert.is(sh('stat', '-c', '%A', tmp), 'drwxrwxrwt\n');
  const roots = fileOf(join(tmp, 'roots'), 0, 0, 0o666, 'root file');
  const mine = fileOf(join(tmp, 'mine'), NOBODY.uid, NOBODY.gid, 0o644);
  assert.is(errnoAs(NOBODY, 'fs.unlinkSync(a[0])', roots), 'EPERM');
  assert.is(errnoAs(NOBODY, "fs.renameSync(a[0], a[0] + '-moved')", roots), 'EPERM');
  assert.is(errnoAs(NOBODY, 'fs.renameSync(a[0], a[1])', mine, roots), 'EPERM', 'nor replace it');
  assert.is(readFileSync(roots, 'utf8'), 'root file', 'it may still write to it (0666)');
  assert.is(errnoAs(NOBODY, "fs.renameSync(a[0], a[0] + '-moved')", mine), 'no error');
  assert.is(errnoAs(NOBODY, "fs.unlinkSync(a[0] + '-moved')", mine), 'no error');
  // the directory's owner may remove anything in it
  chownSync(tmp, NOBODY.uid, NOBODY.gid);
  assert.is(errnoAs(NOBODY, 'fs.unlinkSync(a[0])', roots), 'no error');
  fileOf(join(tmp, 'again'), 1000, 1000, 0o644);
  unlinkSync(join(tmp, 'again'));
  assert.equal(readdirSync(tmp), []);
  // without the sticky bit, write permission on the directory is enough
  chownSync(tmp, 0, 0);
  chmodSync(tmp, 0o777);
  fileOf(join(tmp, 'loose'), 0, 0, 0o600);
  assert.is(errnoAs(NOBODY, 'fs.unlinkSync(a[0])', join(tmp, 'loose')), 'no error');
});

test('xattr - user, trusted and security names are set, read, listed and removed with the attr tools', () => {
  const d = fresh();
  const p = join(d, 'f');
  writeFileSync(p, '');
  sh('setfattr', '-n', 'user.colour', '-v', 'blue', p);
  sh('setfattr', '-n', 'trusted.owner', '-v', 'ops team', p);
  sh('setfattr', '-n', 'security.label', '-v', 'unconfined', p);
  assert.is(sh('getfattr', '--only-values', '-n', 'user.colour', p), 'blue');
  assert.is(
    sh('getfattr', '--absolute-names', '-d', '-m', '-', p),
    `# file: ${p}\nsecurity.label="unconfined"\ntrusted.owner="ops team"\nuser.colour="blue"\n\n`,
  );
  sh('setfattr', '-n', 'user.colour', '-v', 'green', p);
  assert.is(sh('getfattr', '--only-values', '-n', 'user.colour', p), 'green', 'set again replaces');
  sh('setfattr', '-x', 'trusted.owner', p);
  assert.is(
    sh('getfattr', '--absolute-names', '-d', '-m', '-', p),
    `# file: ${p}\nsecurity.label="unconfined"\nuser.colour="green"\n\n`,
  );
  mkdirSync(join(d, 'dir'));
  sh('setfattr', '-n', 'user.on-a-dir', '-v', '1', join(d, 'dir'));
  assert.is(sh('getfattr', '--only-values', '-n', 'user.on-a-dir', join(d, 'dir')), '1');
  symlinkSync('f', join(d, 'link'));
  sh('setfattr', '-h', '-n', 'trusted.on-a-link', '-v', '2', join(d, 'link'));
  assert.is(sh('getfattr', '-h', '--only-values', '-n', 'trusted.on-a-link', join(d, 'link')), '2');
  assert.is(
    sh('getfattr', '--absolute-names', '-d', '-m', 'trusted', p),
    '',
    "the link's attribute is its own, not its target's",
  );
});

test('xattr - a missing name is "No such attribute" (ENODATA) to get and to remove', () => {
  const d = fresh();
  const p = join(d, 'f');
  writeFileSync(p, '');
  const get = spawnSync('getfattr', ['-n', 'user.missing', p], { encoding: 'utf8' });
  assert.is(get.status, 1);
  assert.match(get.stderr, /user\.missing: No such attribute/);
  const remove = spawnSync('setfattr', ['-x', 'user.missing', p], { encoding: 'utf8' });
  assert.is(remove.status, 1);
  assert.match(remove.stderr, /No such attribute/);
  assert.is(pyErrno('os.getxattr(a[0], "user.missing")', p), 'ENODATA');
  assert.is(pyErrno('os.removexattr(a[0], "user.missing")', p), 'ENODATA');
  assert.is(pyErrno('os.getxattr(a[0], "user.x")', join(d, 'no-file')), 'ENOENT');
});

test('xattr - XATTR_CREATE refuses an existing name (EEXIST), XATTR_REPLACE a missing one (ENODATA)', () => {
  const d = fresh();
  const p = join(d, 'f');
  writeFileSync(p, '');
  for (const ns of ['user', 'trusted', 'security']) {
    const name = `${ns}.flagged`;
    assert.is(pyErrno('os.setxattr(a[0], a[1], b"v", os.XATTR_REPLACE)', p, name), 'ENODATA', ns);
    assert.is(pyErrno('os.setxattr(a[0], a[1], b"one", os.XATTR_CREATE)', p, name), 'no error', ns);
    assert.is(pyErrno('os.setxattr(a[0], a[1], b"two", os.XATTR_CREATE)', p, name), 'EEXIST', ns);
    assert.is(sh('getfattr', '--only-values', '-n', name, p), 'one', `${ns}: the refused create left it`);
    assert.is(pyErrno('os.setxattr(a[0], a[1], b"three", os.XATTR_REPLACE)', p, name), 'no error', ns);
    assert.is(sh('getfattr', '--only-values', '-n', name, p), 'three', ns);
  }
  assert.is(
    python('import os, sys\nprint(sorted(os.listxattr(sys.argv[1])))', p),
    "['security.flagged', 'trusted.flagged', 'user.flagged']",
  );
});

test('xattr - values are binary and may be empty or 64 KiB; an unknown namespace is EOPNOTSUPP', () => {
  const d = fresh();
  const p = join(d, 'f');
  writeFileSync(p, '');
  sh('setfattr', '-n', 'user.bin', '-v', '0x00ff0a00', p);
  assert.is(
    sh('getfattr', '--absolute-names', '-e', 'hex', '-n', 'user.bin', p),
    `# file: ${p}\nuser.bin=0x00ff0a00\n\n`,
  );
  sh('setfattr', '-n', 'user.empty', p);
  assert.is(sh('getfattr', '--absolute-names', '-n', 'user.empty', p), `# file: ${p}\nuser.empty=""\n\n`);
  const big = Buffer.alloc(65536);
  for (let i = 0; i < big.length; i++) big[i] = (i * 31) % 256;
  const value = join(mnt().scratch, 'big-value');
  writeFileSync(value, big);
  assert.is(pyErrno('os.setxattr(a[0], "user.big", open(a[1], "rb").read())', p, value), 'no error');
  const back = spawnSync('getfattr', ['--only-values', '-n', 'user.big', p]);
  assert.is(back.status, 0, String(back.stderr));
  assert.ok(Buffer.from(back.stdout).equals(big), 'a 64 KiB value round-trips');
  const unknown = spawnSync('setfattr', ['-n', 'bogus.name', '-v', '1', p], { encoding: 'utf8' });
  assert.is(unknown.status, 1);
  assert.match(unknown.stderr, /Operation not supported/);
  assert.is(pyErrno('os.setxattr(a[0], "bogus.name", b"1")', p), 'EOPNOTSUPP');
});

test('xattr - a name past 255 bytes is ERANGE, a value past 64 KiB is E2BIG', () => {
  const d = fresh();
  const p = join(d, 'f');
  writeFileSync(p, '');
  const longest = `user.${'n'.repeat(250)}`;
  assert.is(pyErrno('os.setxattr(a[0], a[1], b"ok")', p, longest), 'no error');
  assert.is(sh('getfattr', '--only-values', '-n', longest, p), 'ok');
  assert.is(pyErrno('os.setxattr(a[0], a[1], b"x")', p, `${longest}n`), 'ERANGE');
  assert.is(pyErrno('os.setxattr(a[0], "user.huge", b"x" * 65537)', p), 'E2BIG');
  assert.is(pyErrno('os.getxattr(a[0], "user.huge")', p), 'ENODATA', 'nothing was stored');
});

test('xattr - an unprivileged user needs write permission for user.*, and may not touch trusted.*', () => {
  const d = fresh();
  const p = fileOf(join(d, 'f'), 0, 0, 0o644);
  sh('setfattr', '-n', 'trusted.t', '-v', 'root', p);
  sh('setfattr', '-n', 'user.u', '-v', 'root', p);
  const asNobody = (...args: string[]) => runAs(NOBODY, args[0]!, args.slice(1));
  assert.is(asNobody('getfattr', '--only-values', '-n', 'user.u', p).stdout, 'root', 'reading needs read');
  const set = asNobody('setfattr', '-n', 'user.u', '-v', 'nobody', p);
  assert.is(set.status, 1);
  assert.match(set.stderr, /Permission denied/);
  const trusted = asNobody('setfattr', '-n', 'trusted.t', '-v', 'nobody', p);
  assert.is(trusted.status, 1);
  assert.match(trusted.stderr, /Operation not permitted/);
  assert.match(asNobody('getfattr', '-n', 'trusted.t', p).stderr, /No such attribute/);
  chmodSync(p, 0o666);
  assert.is(asNobody('setfattr', '-n', 'user.u', '-v', 'nobody', p).status, 0);
  assert.is(sh('getfattr', '--only-values', '-n', 'user.u', p), 'nobody');
  assert.is(sh('getfattr', '--only-values', '-n', 'trusted.t', p), 'root');
});

test('xattr - kept by hard links and renames, gone with the inode', () => {
  const d = fresh();
  const p = join(d, 'f');
  writeFileSync(p, '');
  sh('setfattr', '-n', 'user.k', '-v', 'kept', p);
  linkSync(p, join(d, 'g'));
  renameSync(p, join(d, 'h'));
  assert.is(sh('getfattr', '--only-values', '-n', 'user.k', join(d, 'g')), 'kept');
  assert.is(sh('getfattr', '--only-values', '-n', 'user.k', join(d, 'h')), 'kept');
  unlinkSync(join(d, 'g'));
  unlinkSync(join(d, 'h'));
  writeFileSync(p, '');
  assert.is(sh('getfattr', '--absolute-names', '-d', p), '', 'a new inode has none');
});

test('utimensat - explicit times (the same for atime and mtime) are stored, with touch -d too', async () => {
  const d = fresh();
  const p = join(d, 'f');
  writeFileSync(p, '');
  const t = Date.UTC(2001, 1, 3, 4, 5, 6) / 1000;
  const before = statSync(p).ctimeMs;
  await sleep(20);
  utimesSync(p, t, t);
  const st = statSync(p);
  assert.is(st.atimeMs, t * 1000);
  assert.is(st.mtimeMs, t * 1000);
  assert.ok(st.ctimeMs > before, 'setting times moves ctime');
  assert.is(sh('stat', '-c', '%X %Y', p), `${t} ${t}\n`);
  sh('touch', '-d', '1999-12-31 23:59:59 UTC', p);
  assert.is(sh('stat', '-c', '%X %Y', p), '946684799 946684799\n');
  sh('touch', '-h', '-d', '2010-01-01 00:00:00 UTC', join(d, 'f'));
  assert.is(sh('stat', '-c', '%Y', p), '1262304000\n');
  sh('touch', '-d', '1970-01-01 00:00:00 UTC', d);
  assert.is(sh('stat', '-c', '%X %Y', d), '0 0\n', 'the epoch itself on a directory');
  const future = Date.UTC(2100, 0, 1) / 1000;
  utimesSync(p, future, future);
  assert.is(statSync(p).mtimeMs, future * 1000, 'past 2038');
});

test('touch - with no time sets atime and mtime to now', () => {
  const d = fresh();
  const p = join(d, 'f');
  writeFileSync(p, '');
  utimesSync(p, 1_000_000_000, 1_000_000_000);
  const from = Date.now();
  sh('touch', p);
  const to = Date.now();
  const st = statSync(p);
  for (const [name, ms] of [
    ['atime', st.atimeMs],
    ['mtime', st.mtimeMs],
    ['ctime', st.ctimeMs],
  ] as const) {
    assert.ok(ms >= from - 1000 && ms <= to + 1000, `${name} ${ms} is now (${from}..${to})`);
  }
  sh('touch', join(d, 'created-by-touch'));
  assert.ok(statSync(join(d, 'created-by-touch')).isFile());
  assert.is(statSync(join(d, 'created-by-touch')).size, 0);
});

test('times - writes move mtime and ctime; entries added and removed move the directory mtime', async () => {
  const d = fresh();
  const p = join(d, 'f');
  writeFileSync(p, 'one');
  const old = Date.UTC(2000, 0, 1) / 1000;
  utimesSync(p, old, old);
  utimesSync(d, old, old);
  writeFileSync(p, 'two');
  assert.ok(statSync(p).mtimeMs > old * 1000 + 1000, 'write moved mtime');
  assert.ok(statSync(p).ctimeMs > old * 1000 + 1000, 'write moved ctime');
  assert.is(statSync(p).atimeMs, old * 1000, 'write left atime');
  utimesSync(p, old, old);
  truncateSync(p, 1);
  assert.ok(statSync(p).mtimeMs > old * 1000, 'truncate moved mtime');
  for (const change of [
    () => writeFileSync(join(d, 'new'), ''),
    () => unlinkSync(join(d, 'new')),
    () => mkdirSync(join(d, 'sub')),
    () => renameSync(join(d, 'sub'), join(d, 'sub2')),
  ]) {
    utimesSync(d, old, old);
    change();
    assert.ok(statSync(d).mtimeMs > old * 1000, `directory mtime moved by ${change}`);
  }
});

test('attributes - modes, owners, times and xattrs survive an unmount and a mount', async () => {
  const m = mnt();
  const d = fresh();
  const p = join(d, 'f');
  writeFileSync(p, 'x');
  chownSync(p, 321, 654);
  chmodSync(p, 0o4751);
  utimesSync(p, 1_234_567_890, 1_234_567_890);
  sh('setfattr', '-n', 'user.a', '-v', 'A', p);
  sh('setfattr', '-n', 'trusted.b', '-v', 'B', p);
  sh('mknod', join(d, 'dev'), 'c', '4', '64');
  await m.unmount();
  await m.remount();
  assert.is(sh('stat', '-c', '%a %u %g %X %Y', p), '4751 321 654 1234567890 1234567890\n');
  assert.is(
    sh('getfattr', '--absolute-names', '-d', '-m', '-', p),
    `# file: ${p}\ntrusted.b="B"\nuser.a="A"\n\n`,
  );
  assert.is(sh('stat', '-c', '%F %t:%T', join(d, 'dev')), 'character special file 4:40\n');
});

test('chmod - EPERM and ENOENT reach the caller unchanged', () => {
  const d = fresh();
  assert.is(
    errnoOf(() => chmodSync(join(d, 'missing'), 0o644)),
    'ENOENT',
  );
  assert.is(
    errnoOf(() => chownSync(join(d, 'missing'), 1, 1)),
    'ENOENT',
  );
  assert.is(errnoAs(NOBODY, 'fs.chmodSync(a[0], 0o777)', d), 'EPERM');
});

test.run();
