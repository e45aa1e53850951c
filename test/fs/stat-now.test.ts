/*
 * Lookups answered at once (Fs.statNow): the same answers as resolve + getattr, and no answer
 * at all (undefined: take the slow path) while a mutation holds or waits for the lock.
 */

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isXattrName } from '../../src/fs/fs.js';
import { withScratchNode } from '../helpers/volume.js';

const WHO = { uid: 7, gid: 8 };

test('statNow - answers as getattr does, follows renames and unlinks, waits out mutations', async () => {
  await withScratchNode(async (node) => {
    const fs = node.fs;
    await fs.create('/d', 0o40755, WHO);
    const ino = await fs.create('/d/f', 0o100600, WHO);
    // a mutation was answered but its fold may still hold the lock: no answer yet, never a stale one
    const during = fs.statNow('/d/f');
    assert.ok(during === undefined || during?.ino === ino);
    await fs.settled();
    const now = fs.statNow('/d/f');
    assert.ok(now, 'answered from memory');
    assert.equal(now, await fs.getattr(ino));
    assert.is(fs.statNow('/d/nope'), null, 'a missing name is known missing');

    await fs.rename('/d/f', '/d/g');
    await fs.settled();
    assert.is(fs.statNow('/d/f'), null);
    assert.is(fs.statNow('/d/g')?.ino, ino);
    assert.ok((fs.statNow('/d/g')?.ctimeSec ?? 0) > 0);

    // while something holds the lock and a mutation waits for it, statNow steps aside
    let release!: () => void;
    const held = fs.quiesced(() => new Promise<void>((r) => (release = r)));
    const unlink = fs.unlink('/d/g');
    await new Promise((r) => setImmediate(r)); // the lock is held, the unlink waits for it
    assert.is(fs.statNow('/d/g'), undefined);
    release();
    await held;
    await unlink;
    await fs.settled();
    assert.is(fs.statNow('/d/g'), null);
    // an uncached directory is left to the slow path, which gives its errors
    assert.is(fs.statNow('/missing/x'), undefined);
  });
});

test('xattrlessNow - true only while the inode has no xattrs, as the items say', async () => {
  await withScratchNode(async (node) => {
    const fs = node.fs;
    const ino = await fs.create('/f', 0o100600, WHO);
    await fs.settled();
    assert.is(fs.xattrlessNow('/f'), true);
    assert.is(fs.xattrlessNow('/nope'), null);
    await fs.setxattr(ino, 'user.a', Buffer.from('1'), 0);
    await fs.setxattr(ino, 'trusted.b', Buffer.from('2'), 0);
    await fs.setxattr(ino, 'user.a', Buffer.from('3'), 0); // a replace counts no new name
    await fs.settled();
    assert.is(fs.xattrlessNow('/f'), false);
    await fs.removexattr(ino, 'user.a');
    await fs.settled();
    assert.is(fs.xattrlessNow('/f'), false, 'one is left');
    assert.equal(await fs.listxattr(ino), ['trusted.b']);
    await fs.removexattr(ino, 'trusted.b');
    await fs.settled();
    assert.is(fs.xattrlessNow('/f'), true, 'the last one removed');
    assert.equal(await fs.listxattr(ino), []);
    // an xattr set while the lock is held waits: no answer from memory until it is folded
    let release!: () => void;
    const held = fs.quiesced(() => new Promise<void>((r) => (release = r)));
    const set = fs.setxattr(ino, 'user.c', Buffer.from('4'), 0);
    await new Promise((r) => setImmediate(r));
    assert.is(fs.xattrlessNow('/f'), undefined);
    release();
    await held;
    await set;
    await fs.settled();
    assert.is(fs.xattrlessNow('/f'), false);
  });
});

test('isXattrName - the names getxattr can find', () => {
  assert.ok(isXattrName('user.x'));
  assert.ok(isXattrName('security.capability'));
  assert.ok(isXattrName('system.posix_acl_access'));
  assert.not.ok(isXattrName('user.'), 'a namespace alone');
  assert.not.ok(isXattrName('bogus.name'));
  assert.not.ok(isXattrName(''));
  assert.not.ok(isXattrName(`user.${'n'.repeat(251)}`), 'past 255 bytes');
  assert.ok(isXattrName(`user.${'n'.repeat(250)}`), '255 bytes');
});

test.run();
