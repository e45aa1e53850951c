/*
 * A fold that fails after its operation was answered: the filesystem refuses everything from
 * then on (reads, commits, checkpoints), and the log, which holds the answered operation's
 * events, brings it back at the next open.
 */

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FsError } from '../../src/errors.js';
import { Node } from '../../src/node/node.js';
import { scratchVolumeFile } from '../helpers/volume.js';

const WHO = { uid: 0, gid: 0 };

test('fold failure - answered, then every read, commit and checkpoint is EIO; a reopen has it', async () => {
  const { path, remove } = await scratchVolumeFile();
  try {
    const node = await Node.open(path, { slot: 0 });
    const fs = node.fs;
    const before = await fs.create('/before', 0o100644, WHO);
    await fs.settled(); // its fold, which runs after the answer, is done

    const lsm = node.store.lsm;
    const apply = lsm.apply.bind(lsm);
    lsm.apply = () => {
      throw new Error('injected: the index cannot take this');
    };
    const ino = await fs.create('/answered', 0o100644, WHO);
    assert.ok(ino > before, 'the create was answered with its inode');
    await fs.settled(); // its fold has run, and failed
    lsm.apply = apply;

    const refused = async (what: string, p: Promise<unknown>) => {
      const err = await p.then(
        () => null,
        (e: unknown) => e,
      );
      assert.instance(err, Error, `${what} is refused`);
      assert.match((err as Error).message, /unusable|injected/, what);
      if (err instanceof FsError) assert.is(err.code, 'EIO', what);
    };
    await refused('stat of an earlier file', fs.getattr(before));
    await refused('path lookup', fs.resolve('/before'));
    await refused('another create', fs.create('/after', 0o100644, WHO));
    await refused('commit (fsync)', fs.commit());
    await refused('checkpoint', node.checkpoint());
    await node.close().catch(() => {});

    const again = await Node.open(path, { slot: 0 });
    try {
      assert.is(await again.fs.resolve('/answered'), ino, 'the answered create is in the log');
      assert.is(await again.fs.resolve('/before'), before);
      const after = await again.fs.resolve('/after').then(
        () => 'found',
        (e: FsError) => e.code,
      );
      assert.is(after, 'ENOENT', 'the refused create never happened');
    } finally {
      await again.close();
    }
  } finally {
    remove();
  }
});

test.run();
