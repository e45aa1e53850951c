/*
 * The patched binding's thread locals (native/fuse-native.patch, patch 5): libfuse starts a
 * worker thread whenever none is idle and ends one whenever more than ten are, and each new
 * worker needs locals (a buffer and a uv_async handle in the JS event loop). The stock binding
 * made new ones for every new thread and never freed them; the patch pools them.
 *
 * Mounted in this process, on the trivial in-memory filesystem, with lookups that answer after
 * a delay so concurrent stats pile up on worker threads. Every call into the mount is
 * asynchronous (a child process, fs.promises), never a blocking call from the serving process.
 */

import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { memFuseOperations } from '../../bench/mem-fuse.js';
import { forceUnmount, isMounted } from '../helpers/mount.js';

const require = createRequire(import.meta.url);
const FILES = 40;

interface FuseInstance {
  mount(cb: (err: Error | null) => void): void;
  unmount(cb: (err: Error | null) => void): void;
}
type FuseCtor = (new (
  mnt: string,
  ops: object,
  opts: object,
) => FuseInstance) & {
  prototype: { _malloc(size: number): Buffer };
};

test('binding - worker threads that come and go reuse their locals instead of leaking new ones', async () => {
  const Fuse = require('fuse-native') as FuseCtor;
  let locals = 0;
  const malloc = Fuse.prototype._malloc;
  Fuse.prototype._malloc = function (this: unknown, size: number) {
    locals++;
    return malloc.call(this, size);
  };
  const scratch = mkdtempSync(join(tmpdir(), 'scoutfs-binding-'));
  const mnt = join(scratch, 'mnt');
  await promisify(execFile)('mkdir', [mnt]);
  const ops = memFuseOperations() as unknown as Record<string, (...a: unknown[]) => void>;
  const getattr = ops.getattr!;
  // a file's lookup answers 30 ms late, so a burst of them keeps many workers busy at once
  ops.getattr = (path: unknown, cb: unknown) =>
    path === '/' ? getattr(path, cb) : setTimeout(() => getattr(path, cb), 30);
  const fuse = new Fuse(mnt, ops, { entryTimeout: '0', attrTimeout: '0', timeout: false });
  try {
    await new Promise<void>((resolve, reject) => fuse.mount((err) => (err ? reject(err) : resolve())));
    for (let i = 0; i < FILES; i++) await writeFile(join(mnt, `f${i}`), 'x');
    const burst = () =>
      promisify(execFile)('sh', [
        '-c',
        `for i in $(seq 0 ${FILES - 1}); do stat -c %i ${mnt}/f$i >/dev/null & done; wait`,
      ]);
    const after: number[] = [];
    for (let round = 0; round < 4; round++) {
      await burst();
      await new Promise((r) => setTimeout(r, 200)); // idle workers past ten end meanwhile
      after.push(locals);
    }
    assert.ok(after[0]! >= 15, `a burst ran on many workers at once (${after[0]} locals)`);
    // later bursts start as many new threads again; their locals come from the pool, so there
    // are never more than the most workers one burst keeps busy at once (its FILES lookups and
    // a few others), where leaking ones grow by a burst's worth each time (41, 72, 103, 134)
    assert.ok(after[3]! <= FILES + 6, `locals after each burst: ${after.join(', ')}`);
  } finally {
    Fuse.prototype._malloc = malloc;
    await new Promise<void>((resolve) => fuse.unmount(() => resolve()));
    if (isMounted(mnt)) forceUnmount(mnt);
    rmSync(scratch, { recursive: true, force: true });
  }
});

test.run();
