/*
 * The inode record as the folds keep it: its xattr count, which lets a delete skip reading the
 * xattr range of an inode that has none.
 */

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FS_TYPE, xattrKey } from '../../src/format/key.js';
import { checkIndex } from '../../src/node/verify.js';
import { inodeTypeRange } from '../../src/projections/fold.js';
import { withScratchNode } from '../helpers/volume.js';

const WHO = { uid: 0, gid: 0 };
const XATTR_CREATE = 1;

test('inode records - count their xattrs; deleting one removes exactly those, open or not', async () => {
  await withScratchNode(async (node) => {
    const fs = node.fs;
    const xattrKeys = (ino: number) => node.store.lsm.keysIn(inodeTypeRange(ino, FS_TYPE.xattr));
    const a = await fs.create('/a', 0o100644, WHO);
    for (const n of ['user.one', 'user.two', 'trusted.three']) await fs.setxattr(a, n, Buffer.from(n), 0);
    await fs.setxattr(a, 'user.two', Buffer.from('again'), 0); // a replacement adds none
    await fs.removexattr(a, 'user.one');
    const refused = await fs.setxattr(a, 'user.two', Buffer.from('x'), XATTR_CREATE).then(
      () => null,
      (err: { code?: string }) => err.code,
    );
    assert.is(refused, 'EEXIST');
    assert.is((await fs.getattr(a)).xattrs, 2);
    assert.is((await xattrKeys(a)).length, 2);

    // deleted at unlink
    await fs.unlink('/a');
    await fs.settled();
    assert.equal(await xattrKeys(a), []);

    // deleted at the last close of an unlinked open file
    const b = await fs.create('/b', 0o100644, WHO);
    fs.opened(b);
    await fs.setxattr(b, 'user.k', Buffer.from('v'), 0);
    await fs.unlink('/b');
    await fs.settled();
    assert.is((await xattrKeys(b)).length, 1, 'an open file keeps its xattrs');
    await fs.released(b);
    await fs.settled();
    assert.equal(await xattrKeys(b), []);

    // a file without xattrs deletes without them
    const c = await fs.create('/c', 0o100644, WHO);
    assert.is((await fs.getattr(c)).xattrs, 0);
    await fs.unlink('/c');
    await fs.commit();
    assert.equal((await checkIndex(node.store)).problems, []);

    // replay --verify's structural check sees a count that disagrees with the items
    const d = await fs.create('/d', 0o100644, WHO);
    await fs.settled();
    node.store.lsm.apply(
      [{ key: xattrKey(d, Buffer.from('user.stray')), value: Buffer.from('v') }],
      node.store.lastSeq,
    );
    assert.equal((await checkIndex(node.store)).problems, [
      `inode ${d}: counts 0 xattrs, 1 xattr items exist`,
    ]);
  });
});

test.run();
