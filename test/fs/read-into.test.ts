/*
 * Reads into a caller's buffer (FUSE's reply buffer): holes are zeroed whatever the buffer
 * held, and a failed read answers only after every device read it started has finished, since
 * libfuse frees the buffer once it is answered. And the read windows (extents looked up once
 * for the reads after): every write, truncate and delete is seen.
 */

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FsError } from '../../src/errors.js';
import { withScratchNode } from '../helpers/volume.js';

const WHO = { uid: 0, gid: 0 };
const KiB = 1024;

test('read into - holes read as zeros over a dirty buffer; a failed read waits for its other reads', async () => {
  await withScratchNode(async (node) => {
    const fs = node.fs;
    const ino = await fs.create('/f', 0o100644, WHO);
    // two extents with a hole between them, and a tail past the last one
    await fs.write(ino, 0, Buffer.alloc(8 * KiB, 0x11));
    await fs.write(ino, 40 * KiB, Buffer.alloc(8 * KiB, 0x22));
    await fs.truncate(ino, 64 * KiB);
    const into = Buffer.alloc(64 * KiB, 0xee);
    const got = await fs.read(ino, 0, 64 * KiB, into);
    assert.is(got.length, 64 * KiB);
    assert.ok(got.buffer === into.buffer, 'the bytes are in the given buffer');
    assert.ok(got.subarray(0, 8 * KiB).every((b) => b === 0x11));
    assert.ok(
      got.subarray(8 * KiB, 40 * KiB).every((b) => b === 0),
      'the hole is zeros',
    );
    assert.ok(got.subarray(40 * KiB, 48 * KiB).every((b) => b === 0x22));
    assert.ok(
      got.subarray(48 * KiB).every((b) => b === 0),
      'the tail is zeros',
    );

    // the first extent's read fails at once, the second's finishes later
    const device = node.vol.dev;
    const read = device.read.bind(device);
    let slowDone = false;
    let calls = 0;
    device.read = async (offset, length, buf) => {
      calls += 1;
      if (calls === 1) throw new FsError('EIO', 'injected: first extent unreadable');
      await new Promise((r) => setTimeout(r, 50));
      const b = await read(offset, length, buf);
      slowDone = true;
      return b;
    };
    const err = await fs.read(ino, 0, 64 * KiB, Buffer.alloc(64 * KiB)).then(
      () => null,
      (e: unknown) => e,
    );
    device.read = read;
    assert.instance(err, FsError);
    assert.is((err as FsError).code, 'EIO');
    assert.is(calls, 2);
    assert.ok(slowDone, 'the other extent read had finished before the read failed');
  });
});

test('read windows - reads see every change to the extents of a window already read', async () => {
  await withScratchNode(async (node) => {
    const fs = node.fs;
    const ino = await fs.create('/w', 0o100644, WHO);
    const read = async (at: number, n: number) => fs.read(ino, at, n);
    await fs.write(ino, 0, Buffer.alloc(4 * KiB, 0x11));
    await fs.truncate(ino, 64 * KiB);
    assert.ok(
      (await read(0, 64 * KiB)).subarray(4 * KiB).every((b) => b === 0),
      'a hole, read once',
    );
    // a write into the hole the window knew as a hole
    await fs.write(ino, 32 * KiB, Buffer.alloc(4 * KiB, 0x22));
    assert.ok(
      (await read(32 * KiB, 4 * KiB)).every((b) => b === 0x22),
      'the new extent is read',
    );
    // shrink past it, grow again: a hole once more
    await fs.truncate(ino, 8 * KiB);
    await fs.truncate(ino, 64 * KiB);
    assert.ok(
      (await read(32 * KiB, 4 * KiB)).every((b) => b === 0),
      'the unmapped extent is not read',
    );
    // the file deleted and its inode's blocks reused by another file
    await fs.unlink('/w');
    const other = await fs.create('/x', 0o100644, WHO);
    await fs.write(other, 0, Buffer.alloc(4 * KiB, 0x33));
    assert.ok((await fs.read(other, 0, 4 * KiB)).every((b) => b === 0x33));
  });
});

test.run();
