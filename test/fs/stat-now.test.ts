/*
 * Lookups answered at once (Fs.statNow): the same answers as resolve + getattr, and no answer
 * at all (undefined: take the slow path) while a mutation holds or waits for the lock.
 */

import { test } from 'uvu';
import * as assert from 'uvu/assert';
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

test.run();
