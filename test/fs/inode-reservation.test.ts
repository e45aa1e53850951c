/*
 * Inode numbers come from reservations appended as InodesReserved events. A create that draws
 * a new reservation and then fails before its events are appended must give the reservation
 * back: otherwise the creates after it draw numbers from a reservation the log never got, and
 * after the next mount those numbers are handed out again, to new inodes over existing ones.
 */

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { FsEvent } from '../../src/events/event.js';
import { Node } from '../../src/node/node.js';
import { scratchVolumeFile } from '../helpers/volume.js';

const WHO = { uid: 0, gid: 0 };

test('inode reservation - a create that fails before its append gives its numbers back', async () => {
  const { path, remove } = await scratchVolumeFile();
  try {
    const node = await Node.open(path, { slot: 0 });
    const inos: number[] = [];
    try {
      // the first create after a mount draws a reservation: make its append fail, once
      const writer = node.writer;
      const append = writer.append.bind(writer);
      let failed = 0;
      writer.append = (events: FsEvent[]) => {
        if (failed === 0 && events.some((e) => e.type === 'InodesReserved')) {
          failed += 1;
          return Promise.reject(new Error('injected: the append failed'));
        }
        return append(events);
      };
      const err = await node.fs.create('/lost', 0o100644, WHO).then(
        () => null,
        (e: Error) => e,
      );
      assert.match(err?.message ?? '', /injected/, 'the create failed');
      assert.is(failed, 1);
      for (const name of ['a', 'b', 'c']) inos.push(await node.fs.create(`/${name}`, 0o100644, WHO));
    } finally {
      await node.close();
    }
    const again = await Node.open(path, { slot: 0 });
    try {
      for (const name of ['d', 'e', 'f']) inos.push(await again.fs.create(`/${name}`, 0o100644, WHO));
      assert.is(new Set(inos).size, inos.length, `every inode number is new: ${inos.join(' ')}`);
      for (const [i, name] of ['a', 'b', 'c', 'd', 'e', 'f'].entries()) {
        assert.is(await again.fs.resolve(`/${name}`), inos[i], `/${name}`);
      }
    } finally {
      // after a failure above the filesystem may refuse its close too: keep the first error
      await again.close().catch((e: Error) => console.error(`close after the test: ${e.message}`));
    }
  } finally {
    remove();
  }
});

test.run();
