/*
 * Errors into FUSE replies (src/fuse/errno.ts): codes are the FsError's own, anything else is
 * EIO, and every EIO leaves a line in the mount log, at most a burst per window, with a count of
 * the lines left out.
 */

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ERRNO, FsError } from '../../src/errors.js';
import { errnoReplies } from '../../src/fuse/errno.js';

test('errno - FsError codes pass through; only EIO answers are logged', () => {
  const lines: string[] = [];
  const errnoOf = errnoReplies(
    (l) => lines.push(l),
    () => 0,
  );
  assert.is(errnoOf(new FsError('ENOENT', 'no such name')), -ERRNO.ENOENT);
  assert.is(errnoOf(new FsError('ENOSPC', 'full')), -ERRNO.ENOSPC);
  assert.equal(lines, []);
  assert.is(errnoOf(new FsError('EIO', 'device write failed at 4096')), -ERRNO.EIO);
  assert.is(lines.length, 1);
  assert.match(lines[0] ?? '', /answered EIO: device write failed at 4096$/);
  assert.is(errnoOf(new TypeError('x is undefined')), -ERRNO.EIO);
  assert.is(lines.length, 2);
  assert.match(lines[1] ?? '', /internal error answered EIO: TypeError: x is undefined/);
});

test('errno - EIO lines are limited per window, and the left-out count is logged', () => {
  const lines: string[] = [];
  let t = 0;
  const errnoOf = errnoReplies(
    (l) => lines.push(l),
    () => t,
  );
  for (let i = 0; i < 50; i++) errnoOf(new FsError('EIO', `failure ${i}`));
  assert.is(lines.length, 20);
  t = 10_000;
  errnoOf(new FsError('EIO', 'after the window'));
  assert.is(lines.length, 22);
  assert.is(lines[20], 'scoutfs: 30 more EIO answers not logged');
  assert.match(lines[21] ?? '', /after the window/);
});

test.run();
