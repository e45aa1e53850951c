/*
 * POSIX namespace semantics through a real mount: every kind of inode (regular files,
 * directories, hard links, symlinks, fifos, unix sockets, device nodes), rename in all its
 * cases, unlink and rmdir rules, name length limits, and readdir.
 *
 * The suite shares one mount; each test works in a directory of its own. Errors are asserted by
 * code, as Linux gives them. Directory link counts follow the Unix rule: 2 + subdirectories.
 */

import { execFileSync, spawnSync } from 'node:child_process';
import {
  closeSync,
  linkSync,
  lstatSync,
  mkdirSync,
  opendirSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmdirSync,
  rmSync,
  statSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { basename, join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { errnoOf, freshDirs, sh, suiteMount } from '../helpers/posix.js';

const mnt = suiteMount(test);
/** A fresh, empty directory in the mount for one test. */
const fresh = freshDirs(test, mnt);

/** Directory entries in the order readdir(3) gives them (readdirSync sorts). */
function readdirOrder(dir: string): string[] {
  const d = opendirSync(dir);
  const out: string[] = [];
  try {
    for (let e = d.readSync(); e; e = d.readSync()) out.push(e.name);
  } finally {
    d.closeSync();
  }
  return out;
}

test('regular file - created, written and read back; stat says a regular file with one link', () => {
  const d = fresh();
  const p = join(d, 'f');
  writeFileSync(p, 'hello, world\n');
  assert.is(readFileSync(p, 'utf8'), 'hello, world\n');
  const st = statSync(p);
  assert.ok(st.isFile());
  assert.is(st.size, 13);
  assert.is(st.nlink, 1);
  assert.is(sh('stat', '-c', '%F %s %h', p), 'regular file 13 1\n');
  assert.is(
    errnoOf(() => openSync(p, 'wx')),
    'EEXIST',
    'O_CREAT|O_EXCL on an existing name',
  );
  assert.is(
    errnoOf(() => openSync(join(d, 'missing'), 'r')),
    'ENOENT',
  );
});

test('mkdir - a new directory has two links and adds one to its parent; rmdir takes it back', () => {
  const d = fresh();
  assert.is(statSync(d).nlink, 2);
  mkdirSync(join(d, 'a'));
  mkdirSync(join(d, 'b'));
  writeFileSync(join(d, 'file'), '');
  assert.is(statSync(join(d, 'a')).nlink, 2);
  assert.is(statSync(d).nlink, 4, 'two subdirectories; the file does not count');
  assert.is(statSync(join(d, 'a', '..')).ino, statSync(d).ino, '".." is the parent');
  rmdirSync(join(d, 'a'));
  assert.is(statSync(d).nlink, 3);
  assert.is(
    errnoOf(() => mkdirSync(join(d, 'b'))),
    'EEXIST',
  );
  assert.is(
    errnoOf(() => mkdirSync(join(d, 'file'))),
    'EEXIST',
  );
  assert.is(
    errnoOf(() => mkdirSync(join(d, 'no', 'such'))),
    'ENOENT',
  );
  assert.is(
    errnoOf(() => mkdirSync(join(d, 'file', 'sub'))),
    'ENOTDIR',
  );
});

test('link - hard links share the inode, its data and its link count', () => {
  const d = fresh();
  const a = join(d, 'a');
  writeFileSync(a, 'shared');
  linkSync(a, join(d, 'b'));
  sh('ln', a, join(d, 'c'));
  const ino = statSync(a).ino;
  for (const name of ['a', 'b', 'c']) {
    assert.is(statSync(join(d, name)).ino, ino, name);
    assert.is(statSync(join(d, name)).nlink, 3, name);
  }
  writeFileSync(join(d, 'b'), 'changed through b');
  assert.is(readFileSync(join(d, 'c'), 'utf8'), 'changed through b');
  unlinkSync(a);
  assert.is(statSync(join(d, 'b')).nlink, 2);
  assert.is(readFileSync(join(d, 'b'), 'utf8'), 'changed through b');
  assert.is(statSync(d).nlink, 2, 'links to files do not count on the directory');
  assert.is(
    errnoOf(() => linkSync(join(d, 'b'), join(d, 'c'))),
    'EEXIST',
  );
  assert.is(
    errnoOf(() => linkSync(join(d, 'gone'), join(d, 'x'))),
    'ENOENT',
  );
  mkdirSync(join(d, 'dir'));
  assert.is(
    errnoOf(() => linkSync(join(d, 'dir'), join(d, 'dirlink'))),
    'EPERM',
    'no hard links to dirs',
  );
});

test('symlink - readlink gives the target; stat follows it and lstat does not', () => {
  const d = fresh();
  writeFileSync(join(d, 'target'), 'through the link');
  symlinkSync('target', join(d, 'rel'));
  sh('ln', '-s', join(d, 'target'), join(d, 'abs'));
  symlinkSync('nowhere', join(d, 'dangling'));
  mkdirSync(join(d, 'dir'));
  writeFileSync(join(d, 'dir', 'inside'), 'x');
  symlinkSync('dir', join(d, 'dirlink'));

  assert.is(readlinkSync(join(d, 'rel')), 'target');
  assert.is(readlinkSync(join(d, 'abs')), join(d, 'target'));
  assert.is(readFileSync(join(d, 'rel'), 'utf8'), 'through the link');
  assert.is(readFileSync(join(d, 'abs'), 'utf8'), 'through the link');
  const l = lstatSync(join(d, 'rel'));
  assert.ok(l.isSymbolicLink());
  assert.is(l.size, 'target'.length, "a symlink's size is its target's length");
  assert.ok(statSync(join(d, 'rel')).isFile());
  assert.is(statSync(join(d, 'rel')).ino, statSync(join(d, 'target')).ino);
  assert.is(
    errnoOf(() => statSync(join(d, 'dangling'))),
    'ENOENT',
  );
  assert.ok(lstatSync(join(d, 'dangling')).isSymbolicLink());
  assert.equal(readdirSync(join(d, 'dirlink')), ['inside'], 'a path through a symlink to a dir');
  assert.is(
    errnoOf(() => readlinkSync(join(d, 'target'))),
    'EINVAL',
    'readlink of a regular file',
  );
  assert.is(
    errnoOf(() => symlinkSync('x', join(d, 'rel'))),
    'EEXIST',
  );
});

test('symlink - a target of 4095 bytes is kept whole; 4096 is ENAMETOOLONG', () => {
  const d = fresh();
  const target = `${'a/'.repeat(2047)}b`;
  assert.is(target.length, 4095);
  symlinkSync(target, join(d, 'long'));
  assert.is(readlinkSync(join(d, 'long')), target);
  assert.is(lstatSync(join(d, 'long')).size, 4095);
  assert.is(
    errnoOf(() => symlinkSync(`${target}c`, join(d, 'longer'))),
    'ENAMETOOLONG',
  );
});

test('mkfifo - a fifo is a fifo and carries data from a writer to a reader', () => {
  const d = fresh();
  const p = join(d, 'pipe');
  sh('mkfifo', '-m', '0640', p);
  const st = statSync(p);
  assert.ok(st.isFIFO());
  assert.is(st.mode & 0o777, 0o640);
  assert.is(sh('stat', '-c', '%F', p), 'fifo\n');
  const out = execFileSync('sh', ['-c', '(printf "through the fifo" > "$1") & cat "$1"; wait', 'sh', p], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  assert.is(out, 'through the fifo');
  assert.is(statSync(p).size, 0, 'fifo data never reaches the filesystem');
});

test('mknod - character and block devices keep their type and device numbers', () => {
  const d = fresh();
  sh('mknod', '-m', '0600', join(d, 'null'), 'c', '1', '3');
  sh('mknod', join(d, 'loop'), 'b', '7', '200');
  assert.is(sh('stat', '-c', '%F %t:%T %a', join(d, 'null')), 'character special file 1:3 600\n');
  assert.is(sh('stat', '-c', '%F %t:%T', join(d, 'loop')), 'block special file 7:c8\n');
  assert.ok(statSync(join(d, 'null')).isCharacterDevice());
  assert.ok(statSync(join(d, 'loop')).isBlockDevice());
  assert.is(statSync(join(d, 'null')).rdev, (1 << 8) | 3);
  const again = spawnSync('mknod', [join(d, 'null'), 'c', '1', '5'], { encoding: 'utf8' });
  assert.is(again.status, 1);
  assert.match(again.stderr, /File exists/);
  assert.is(sh('stat', '-c', '%t:%T', join(d, 'null')), '1:3\n', 'a refused mknod left the node alone');
});

test('socket - a unix socket bound in the mount is a socket, and clients connect through it', async () => {
  const d = fresh();
  const p = join(d, 'sock');
  const server = createServer((c) => c.end('pong'));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(p, resolve);
  });
  try {
    assert.ok(statSync(p).isSocket());
    assert.is(sh('stat', '-c', '%F', p), 'socket\n');
    const reply = await new Promise<string>((resolve, reject) => {
      const c = createConnection(p);
      let got = '';
      c.on('data', (x) => {
        got += x;
      });
      c.on('end', () => resolve(got));
      c.on('error', reject);
    });
    assert.is(reply, 'pong');
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
  assert.is(
    errnoOf(() => statSync(p)),
    'ENOENT',
    'closing the server removed its name',
  );
});

test('rename - over an existing file replaces it: one name, the source inode', () => {
  const d = fresh();
  writeFileSync(join(d, 'src'), 'new contents');
  writeFileSync(join(d, 'dst'), 'old contents, longer than the new');
  const ino = statSync(join(d, 'src')).ino;
  renameSync(join(d, 'src'), join(d, 'dst'));
  assert.is(
    errnoOf(() => statSync(join(d, 'src'))),
    'ENOENT',
  );
  assert.is(statSync(join(d, 'dst')).ino, ino);
  assert.is(statSync(join(d, 'dst')).nlink, 1);
  assert.is(readFileSync(join(d, 'dst'), 'utf8'), 'new contents');
  assert.equal(readdirSync(d), ['dst']);
});

test('rename - over a hard-linked file drops one link of the replaced inode', () => {
  const d = fresh();
  writeFileSync(join(d, 'victim'), 'v');
  linkSync(join(d, 'victim'), join(d, 'other-name'));
  writeFileSync(join(d, 'src'), 's');
  renameSync(join(d, 'src'), join(d, 'victim'));
  assert.is(statSync(join(d, 'other-name')).nlink, 1);
  assert.is(readFileSync(join(d, 'other-name'), 'utf8'), 'v');
  assert.is(readFileSync(join(d, 'victim'), 'utf8'), 's');
});

test('rename - a directory over an empty directory replaces it; link counts stay right', () => {
  const d = fresh();
  mkdirSync(join(d, 'a'));
  writeFileSync(join(d, 'a', 'inside'), 'x');
  mkdirSync(join(d, 'b'));
  const ino = statSync(join(d, 'a')).ino;
  assert.is(statSync(d).nlink, 4);
  renameSync(join(d, 'a'), join(d, 'b'));
  assert.is(statSync(join(d, 'b')).ino, ino);
  assert.equal(readdirSync(join(d, 'b')), ['inside']);
  assert.equal(readdirSync(d), ['b']);
  assert.is(statSync(d).nlink, 3, 'one subdirectory left');
  assert.is(statSync(join(d, 'b')).nlink, 2);
});

test('rename - a directory over a non-empty directory is ENOTEMPTY and changes nothing', () => {
  const d = fresh();
  mkdirSync(join(d, 'a'));
  mkdirSync(join(d, 'b'));
  writeFileSync(join(d, 'b', 'keep'), 'x');
  assert.is(
    errnoOf(() => renameSync(join(d, 'a'), join(d, 'b'))),
    'ENOTEMPTY',
  );
  assert.equal(readdirSync(d), ['a', 'b']);
  assert.equal(readdirSync(join(d, 'b')), ['keep']);
  assert.is(statSync(d).nlink, 4);
});

test('rename - a file over a directory is EISDIR; a directory over a file is ENOTDIR', () => {
  const d = fresh();
  writeFileSync(join(d, 'file'), 'f');
  mkdirSync(join(d, 'dir'));
  assert.is(
    errnoOf(() => renameSync(join(d, 'file'), join(d, 'dir'))),
    'EISDIR',
  );
  assert.is(
    errnoOf(() => renameSync(join(d, 'dir'), join(d, 'file'))),
    'ENOTDIR',
  );
  assert.ok(statSync(join(d, 'file')).isFile());
  assert.ok(statSync(join(d, 'dir')).isDirectory());
  assert.is(statSync(d).nlink, 3);
});

test('rename - a directory into itself or its own subtree is EINVAL', () => {
  const d = fresh();
  mkdirSync(join(d, 'top', 'mid', 'low'), { recursive: true });
  assert.is(
    errnoOf(() => renameSync(join(d, 'top'), join(d, 'top', 'x'))),
    'EINVAL',
  );
  assert.is(
    errnoOf(() => renameSync(join(d, 'top'), join(d, 'top', 'mid', 'low', 'x'))),
    'EINVAL',
  );
  assert.is(
    errnoOf(() => renameSync(join(d, 'top'), join(d, 'top', 'mid'))),
    'EINVAL',
    'onto a descendant',
  );
  assert.ok(statSync(join(d, 'top', 'mid', 'low')).isDirectory());
  assert.equal(readdirSync(d), ['top']);
});

test('rename - a name onto itself, or onto another link of the same inode, is a no-op', () => {
  const d = fresh();
  writeFileSync(join(d, 'a'), 'same');
  renameSync(join(d, 'a'), join(d, 'a'));
  assert.is(readFileSync(join(d, 'a'), 'utf8'), 'same');
  assert.is(statSync(join(d, 'a')).nlink, 1);
  linkSync(join(d, 'a'), join(d, 'b'));
  renameSync(join(d, 'a'), join(d, 'b'));
  assert.equal(readdirSync(d), ['a', 'b'], 'both names stay (POSIX: no other action)');
  assert.is(statSync(join(d, 'a')).nlink, 2);
  mkdirSync(join(d, 'dir'));
  renameSync(join(d, 'dir'), join(d, 'dir'));
  assert.ok(statSync(join(d, 'dir')).isDirectory());
  assert.is(statSync(d).nlink, 3);
});

test('rename - a directory across parents moves its ".." and both parents\' link counts', () => {
  const d = fresh();
  mkdirSync(join(d, 'from', 'moving', 'child'), { recursive: true });
  mkdirSync(join(d, 'to'));
  writeFileSync(join(d, 'from', 'moving', 'file'), 'data');
  const ino = statSync(join(d, 'from', 'moving')).ino;
  assert.is(statSync(join(d, 'from')).nlink, 3);
  assert.is(statSync(join(d, 'to')).nlink, 2);
  renameSync(join(d, 'from', 'moving'), join(d, 'to', 'moved'));
  assert.is(statSync(join(d, 'from')).nlink, 2);
  assert.is(statSync(join(d, 'to')).nlink, 3);
  assert.is(statSync(join(d, 'to', 'moved')).ino, ino);
  assert.is(statSync(join(d, 'to', 'moved')).nlink, 3);
  assert.is(statSync(join(d, 'to', 'moved', '..')).ino, statSync(join(d, 'to')).ino);
  assert.is(readFileSync(join(d, 'to', 'moved', 'file'), 'utf8'), 'data');
  assert.equal(readdirSync(join(d, 'from')), []);
  // and back again with mv(1)
  sh('mv', join(d, 'to', 'moved'), join(d, 'from', 'moving'));
  assert.is(statSync(join(d, 'from')).nlink, 3);
  assert.is(statSync(join(d, 'to')).nlink, 2);
  assert.is(statSync(join(d, 'from', 'moving', 'child', '..', '..', '..')).ino, statSync(d).ino);
});

test('rename - a directory over an empty directory in another parent', () => {
  const d = fresh();
  mkdirSync(join(d, 'p1', 'a'), { recursive: true });
  mkdirSync(join(d, 'p2', 'b'), { recursive: true });
  renameSync(join(d, 'p1', 'a'), join(d, 'p2', 'b'));
  assert.is(statSync(join(d, 'p1')).nlink, 2);
  assert.is(statSync(join(d, 'p2')).nlink, 3, 'lost the old b, gained a');
  assert.equal(readdirSync(join(d, 'p2')), ['b']);
});

test('rename - a file across directories keeps its inode and data, and parents their nlink', () => {
  const d = fresh();
  mkdirSync(join(d, 'x'));
  mkdirSync(join(d, 'y'));
  writeFileSync(join(d, 'x', 'f'), 'moving file');
  const ino = statSync(join(d, 'x', 'f')).ino;
  sh('mv', join(d, 'x', 'f'), join(d, 'y', 'g'));
  assert.is(statSync(join(d, 'y', 'g')).ino, ino);
  assert.is(readFileSync(join(d, 'y', 'g'), 'utf8'), 'moving file');
  assert.is(statSync(join(d, 'x')).nlink, 2);
  assert.is(statSync(join(d, 'y')).nlink, 2);
  assert.equal(readdirSync(join(d, 'x')), []);
});

test('rename - an open file can be renamed and is still read and written through its descriptor', () => {
  const d = fresh();
  writeFileSync(join(d, 'a'), 'before ');
  const fd = openSync(join(d, 'a'), 'a');
  try {
    renameSync(join(d, 'a'), join(d, 'b'));
    writeFileSync(fd, 'after');
  } finally {
    closeSync(fd);
  }
  assert.is(readFileSync(join(d, 'b'), 'utf8'), 'before after');
});

test('rename - ENOENT for a missing source or a missing target directory; ENOTDIR through a file', () => {
  const d = fresh();
  writeFileSync(join(d, 'f'), '');
  assert.is(
    errnoOf(() => renameSync(join(d, 'missing'), join(d, 'x'))),
    'ENOENT',
  );
  assert.is(
    errnoOf(() => renameSync(join(d, 'f'), join(d, 'nodir', 'x'))),
    'ENOENT',
  );
  assert.is(
    errnoOf(() => renameSync(join(d, 'f'), join(d, 'f', 'x'))),
    'ENOTDIR',
  );
  assert.equal(readdirSync(d), ['f']);
});

test('unlink - removes the name and the file; ENOENT, EISDIR and ENOTDIR as Linux gives them', () => {
  const d = fresh();
  writeFileSync(join(d, 'f'), 'x');
  mkdirSync(join(d, 'dir'));
  unlinkSync(join(d, 'f'));
  assert.is(
    errnoOf(() => statSync(join(d, 'f'))),
    'ENOENT',
  );
  assert.is(
    errnoOf(() => unlinkSync(join(d, 'f'))),
    'ENOENT',
  );
  assert.is(
    errnoOf(() => unlinkSync(join(d, 'dir'))),
    'EISDIR',
  );
  writeFileSync(join(d, 'g'), '');
  assert.is(
    errnoOf(() => unlinkSync(join(d, 'g', 'x'))),
    'ENOTDIR',
  );
  symlinkSync('dir', join(d, 'link'));
  unlinkSync(join(d, 'link'));
  assert.ok(statSync(join(d, 'dir')).isDirectory(), 'unlinking a symlink leaves its target');
  assert.equal(readdirSync(d), ['dir', 'g']);
});

test('rmdir - ENOTEMPTY, ENOTDIR, ENOENT and EINVAL for "."; an empty directory goes', () => {
  const d = fresh();
  mkdirSync(join(d, 'full'));
  writeFileSync(join(d, 'full', 'f'), '');
  mkdirSync(join(d, 'full2', 'sub'), { recursive: true });
  writeFileSync(join(d, 'file'), '');
  assert.is(
    errnoOf(() => rmdirSync(join(d, 'full'))),
    'ENOTEMPTY',
  );
  assert.is(
    errnoOf(() => rmdirSync(join(d, 'full2'))),
    'ENOTEMPTY',
    'a subdirectory counts',
  );
  assert.is(
    errnoOf(() => rmdirSync(join(d, 'file'))),
    'ENOTDIR',
  );
  assert.is(
    errnoOf(() => rmdirSync(join(d, 'missing'))),
    'ENOENT',
  );
  assert.is(
    errnoOf(() => rmdirSync(`${d}/full/.`)),
    'EINVAL',
    'path.join would drop the "."',
  );
  unlinkSync(join(d, 'full', 'f'));
  rmdirSync(join(d, 'full'));
  assert.is(
    errnoOf(() => statSync(join(d, 'full'))),
    'ENOENT',
  );
  sh('rm', '-r', join(d, 'full2'));
  assert.equal(readdirSync(d), ['file']);
  assert.is(statSync(d).nlink, 2);
});

test('names - 255 bytes work for every kind of entry; 256 bytes are ENAMETOOLONG', () => {
  const d = fresh();
  const at = (c: string, bytes = 255) => join(d, c.repeat(bytes));
  writeFileSync(at('f'), 'long');
  mkdirSync(at('d'));
  symlinkSync('f', at('s'));
  linkSync(at('f'), at('l'));
  renameSync(at('l'), at('r'));
  sh('mkfifo', at('p'));
  assert.is(readFileSync(at('f'), 'utf8'), 'long');
  assert.is(readdirSync(d).length, 5);
  for (const name of readdirSync(d)) assert.is(Buffer.byteLength(name), 255);
  // 85 three-byte characters are 255 bytes, 86 are 258
  writeFileSync(join(d, '€'.repeat(85)), 'euro');
  assert.is(readFileSync(join(d, '€'.repeat(85)), 'utf8'), 'euro');

  assert.is(
    errnoOf(() => writeFileSync(at('F', 256), '')),
    'ENAMETOOLONG',
  );
  assert.is(
    errnoOf(() => mkdirSync(at('D', 256))),
    'ENAMETOOLONG',
  );
  assert.is(
    errnoOf(() => symlinkSync('f', at('S', 256))),
    'ENAMETOOLONG',
  );
  assert.is(
    errnoOf(() => linkSync(at('f'), at('L', 256))),
    'ENAMETOOLONG',
  );
  assert.is(
    errnoOf(() => renameSync(at('f'), at('R', 256))),
    'ENAMETOOLONG',
  );
  assert.is(
    errnoOf(() => writeFileSync(join(d, '€'.repeat(86)), '')),
    'ENAMETOOLONG',
  );
  assert.is(
    errnoOf(() => statSync(at('f', 256))),
    'ENAMETOOLONG',
    'a lookup of a too-long name',
  );
  assert.ok(statSync(at('f')).isFile(), 'the refused rename left the source');
  assert.is(readdirSync(d).length, 6);
});

test('readdir - lists exactly the entries, with their types, and . and ..', () => {
  const d = fresh();
  writeFileSync(join(d, 'file'), '');
  mkdirSync(join(d, 'dir'));
  symlinkSync('file', join(d, 'link'));
  sh('mkfifo', join(d, 'fifo'));
  assert.equal(readdirSync(d), ['dir', 'fifo', 'file', 'link']);
  const types = Object.fromEntries(
    readdirSync(d, { withFileTypes: true }).map((e) => [
      e.name,
      e.isFile() ? 'f' : e.isDirectory() ? 'd' : e.isSymbolicLink() ? 'l' : e.isFIFO() ? 'p' : '?',
    ]),
  );
  assert.equal(types, { dir: 'd', fifo: 'p', file: 'f', link: 'l' });
  assert.is(sh('ls', '-a', '-1', d), '.\n..\ndir\nfifo\nfile\nlink\n');
  assert.equal(readdirSync(join(d, 'dir')), []);
  assert.is(sh('ls', '-a', '-1', join(d, 'dir')), '.\n..\n');
  assert.is(
    errnoOf(() => readdirSync(join(d, 'file'))),
    'ENOTDIR',
  );
  assert.is(
    errnoOf(() => readdirSync(join(d, 'missing'))),
    'ENOENT',
  );
});

test('readdir - entries come back in creation order, a renamed-in entry last', () => {
  const d = fresh();
  const names = ['delta', 'alpha', 'echo', 'charlie', 'bravo'];
  for (const name of names) writeFileSync(join(d, name), '');
  assert.equal(readdirOrder(d), names);
  assert.is(sh('ls', '-U', '-1', d), `${names.join('\n')}\n`);
  const outsider = join(mnt().dir, `outsider-${basename(d)}`);
  writeFileSync(outsider, '');
  renameSync(outsider, join(d, 'aaa'));
  unlinkSync(join(d, 'echo'));
  assert.equal(readdirOrder(d), ['delta', 'alpha', 'charlie', 'bravo', 'aaa']);
});

test('readdir - a directory of 1000 entries lists each once, and rm -r empties it', () => {
  const d = fresh();
  const want = new Set<string>();
  for (let i = 0; i < 1000; i++) {
    const name = `entry-with-a-fairly-long-name-so-readdir-needs-several-buffers-${i}`;
    want.add(name);
    writeFileSync(join(d, name), '');
  }
  const got = readdirOrder(d);
  assert.is(got.length, 1000);
  assert.is(new Set(got).size, 1000, 'no entry twice');
  assert.ok(
    got.every((x) => want.has(x)),
    'no stranger',
  );
  sh('rm', '-r', d);
  assert.is(
    errnoOf(() => statSync(d)),
    'ENOENT',
  );
});

test('paths - a missing component is ENOENT, a file as a component ENOTDIR', () => {
  const d = fresh();
  writeFileSync(join(d, 'file'), '');
  assert.is(
    errnoOf(() => statSync(join(d, 'nope', 'x'))),
    'ENOENT',
  );
  assert.is(
    errnoOf(() => statSync(join(d, 'file', 'x'))),
    'ENOTDIR',
  );
  assert.is(
    errnoOf(() => writeFileSync(join(d, 'file', 'x'), '')),
    'ENOTDIR',
  );
  assert.is(
    errnoOf(() => openSync(join(d, 'file/'), 'r')),
    'ENOTDIR',
  );
  rmSync(join(d, 'file'));
});

test.run();
