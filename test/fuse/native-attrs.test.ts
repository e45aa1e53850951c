/*
 * The JS side of the binding's attribute cache (src/fuse/native-attrs.ts) against a recording
 * stand-in for the binding: the order of what it tells the binding is what keeps the cache
 * exact (names let go of only once their directories are pending; new names put before their
 * directories stop being pending; a failed change empties the cache).
 */

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { InodeRecord } from '../../src/format/item-schema.js';
import { type AttrBinding, NativeAttrs } from '../../src/fuse/native-attrs.js';

/** A binding that records its calls and holds the inodes it is told it holds. */
function recorder() {
  const calls: string[] = [];
  let gen = 0;
  const held = new Set<number>();
  const binding: AttrBinding = {
    attrCacheOn(on) {
      calls.push(`on ${on}`);
      held.clear();
      return ++gen;
    },
    attrStale(inos, drop) {
      gen++;
      let n = 0;
      for (const i of inos) {
        if (!held.has(i)) continue;
        inos[n++] = i;
        if (drop) held.delete(i);
      }
      calls.push(`${drop ? 'drop' : 'stale'} ${[...inos.subarray(0, n)].join(',')}`);
      return n;
    },
    attrForget(path, subtree) {
      calls.push(`forget ${path}${subtree ? '/*' : ''}`);
      return ++gen;
    },
    attrPut(stat, g, path, complete) {
      const ino = stat[7]!;
      held.add(ino);
      calls.push(
        `put ${ino}${path ? ` ${path}` : ''}${complete ? ' complete' : ''} gen ${g === gen ? 'ok' : 'old'}`,
      );
    },
    attrStats: () => [0, 0, 0, 0],
  };
  return { calls, binding, held };
}

const rec = (ino: number, extra: Partial<InodeRecord> = {}) =>
  ({
    ino,
    mode: 0o100644,
    uid: 0,
    gid: 0,
    rdev: 0,
    nlink: 1,
    size: 0,
    atimeSec: 0,
    atimeNsec: 0,
    mtimeSec: 0,
    mtimeNsec: 0,
    ctimeSec: 0,
    ctimeNsec: 0,
    crtimeSec: 0,
    crtimeNsec: 0,
    metaSeq: 1,
    dataSeq: 1,
    dataVersion: 1,
    onlineBlocks: 0,
    offlineBlocks: 0,
    xattrs: 0,
    ...extra,
  }) as InodeRecord;

test('a rename: names let go of after the stale, the new name put before its directory', () => {
  const { calls, binding, held } = recorder();
  const a = new NativeAttrs(() => binding);
  a.on();
  held.add(10); // the directory
  held.add(20); // the file
  calls.length = 0;
  // decide: the path cache forgets both names, the new one is named once appended
  a.forget('/d/a', false);
  a.forget('/d/b', false);
  assert.equal(calls, [], 'nothing let go of while the change is being decided');
  a.stale([10, 20, 10, 20]);
  a.named('/d/b', 20, false);
  a.refresh((ino) => rec(ino));
  assert.equal(calls, [
    'stale 10,20,10,20',
    'forget /d/a',
    'forget /d/b',
    'put 20 /d/b gen ok',
    'put 10 gen ok',
  ]);
});

test('a change that fails after its stale empties the cache; one that fails before does too if it forgot', () => {
  const { calls, binding, held } = recorder();
  const a = new NativeAttrs(() => binding);
  a.on();
  held.add(10);
  calls.length = 0;
  a.forget('/d/x', false);
  a.stale([10]);
  // the log append fails with an FsError: the name may still be there
  a.refresh(() => rec(10), true);
  assert.equal(calls, ['stale 10', 'forget /d/x', 'on true']);

  calls.length = 0;
  a.forget('/d/y', false);
  a.refresh(() => rec(10), true);
  assert.equal(calls, ['on true'], 'forgotten names never appended');

  calls.length = 0;
  a.refresh(() => rec(10), true);
  assert.equal(calls, [], 'a failure that touched nothing leaves the cache alone');
});

test('deleted inodes are dropped; inode numbers past 32 bits are never cached', () => {
  const { calls, binding, held } = recorder();
  const a = new NativeAttrs(() => binding);
  a.on();
  held.add(7);
  calls.length = 0;
  a.stale([7]);
  a.refresh(() => undefined);
  assert.equal(calls, ['stale 7', 'drop 7']);
  assert.is(a.answered(rec(2 ** 32 + 5)), undefined);
  assert.type(a.answered(rec(5)), 'number');
  a.off();
  assert.is(a.answered(rec(5)), undefined, 'off: nothing is cached');
});

test.run();
