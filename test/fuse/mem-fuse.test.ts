/*
 * The benchmark's in-memory filesystem (bench/mem-fuse.ts), called directly: its chunked file
 * bytes read back what was written, holes and truncated tails read as zeros.
 */

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { memFuseOperations } from '../../bench/mem-fuse.js';

type Ops = ReturnType<typeof memFuseOperations>;
const MiB = 1 << 20;

function call(op: (cb: (res: number, ...v: unknown[]) => void) => void): [number, ...unknown[]] {
  let out: [number, ...unknown[]] | null = null;
  op((res, ...v) => {
    out = [res, ...v];
  });
  if (!out) throw new Error('no synchronous answer');
  return out;
}

const write = (ops: Ops, p: string, buf: Buffer, pos: number) =>
  call((cb) => ops.write(p, 0, buf, buf.length, pos, cb))[0];
function read(ops: Ops, p: string, pos: number, len: number): Buffer {
  const buf = Buffer.alloc(len, 0xee);
  const [n] = call((cb) => ops.read(p, 0, buf, len, pos, cb));
  return buf.subarray(0, n);
}

test('mem-fuse - bytes across chunks round-trip; holes and truncated tails read as zeros', () => {
  const ops = memFuseOperations();
  assert.is(call((cb) => ops.create('/f', 0o644, cb))[0], 0);
  const a = Buffer.alloc(MiB + 100);
  for (let i = 0; i < a.length; i++) a[i] = (i * 7) % 251;
  assert.is(write(ops, '/f', a, MiB - 50), a.length, 'a write across two chunk boundaries');
  assert.ok(read(ops, '/f', MiB - 50, a.length).equals(a));
  assert.ok(read(ops, '/f', 0, MiB - 50).equals(Buffer.alloc(MiB - 50)), 'the hole before it');
  assert.is(read(ops, '/f', 2 * MiB + 50, 10).length, 0, 'nothing past the end');

  assert.is(call((cb) => ops.truncate('/f', MiB - 20, cb))[0], 0);
  assert.is(call((cb) => ops.truncate('/f', 3 * MiB, cb))[0], 0);
  const back = read(ops, '/f', MiB - 50, 2 * MiB);
  assert.ok(back.subarray(0, 30).equals(a.subarray(0, 30)), 'kept below the truncate');
  assert.ok(back.subarray(30).equals(Buffer.alloc(2 * MiB - 30)), 'zeros where the truncate cut');
  const [res, stat] = call((cb) => ops.getattr('/f', cb));
  assert.is(res, 0);
  assert.is((stat as { size: number }).size, 3 * MiB);
});

test.run();
