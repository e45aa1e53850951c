import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compareKeys, decodeKey, direntKey, encodeKey, metaSeqKey } from '../../src/format/key.js';
import { rng } from '../helpers/rng.js';

type Tuple = [number, number, number, number, number, number[]];

function compareTuples(x: Tuple, y: Tuple): number {
  for (let i = 0; i < 5; i++) if (x[i] !== y[i]) return (x[i] as number) < (y[i] as number) ? -1 : 1;
  const [a, b] = [x[5], y[5]];
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! < b[i]! ? -1 : 1;
  return a.length - b.length;
}

test('key - byte order equals tuple order for random keys (property)', () => {
  const r = rng(42);
  const big = () => [0, 1, 255, 256, 2 ** 32 - 1, 2 ** 32, 2 ** 40 + 3, Number.MAX_SAFE_INTEGER][r.int(8)]!;
  const num = () => (r.next() < 0.5 ? r.int(1000) : big());
  const tuples: Tuple[] = Array.from({ length: 2000 }, () => [
    r.int(5),
    num(),
    r.int(8),
    num(),
    num(),
    Array.from({ length: r.int(6) }, () => r.int(256)),
  ]);
  const keys = tuples.map((t) => encodeKey(t[0], t[1], t[2], t[3], t[4], Uint8Array.from(t[5])));
  for (let i = 0; i < 4000; i++) {
    const [x, y] = [r.int(tuples.length), r.int(tuples.length)];
    assert.is(Math.sign(compareKeys(keys[x]!, keys[y]!)), Math.sign(compareTuples(tuples[x]!, tuples[y]!)));
  }
});

test('key - decodes what it encodes', () => {
  const k = encodeKey(3, 2 ** 45 + 7, 4, 99, 2 ** 33, Buffer.from('näme'));
  const d = decodeKey(k);
  assert.equal([d.zone, d.a, d.type, d.b, d.c], [3, 2 ** 45 + 7, 4, 99, 2 ** 33]);
  assert.equal(Buffer.from(d.tail).toString(), 'näme');
});

test('key - seq index keys order by seq then inode; dirents group by directory', () => {
  assert.ok(compareKeys(metaSeqKey(5, 900), metaSeqKey(6, 1)) < 0);
  assert.ok(compareKeys(metaSeqKey(6, 1), metaSeqKey(6, 2)) < 0);
  assert.ok(compareKeys(direntKey(7, Buffer.from('zzz')), direntKey(8, Buffer.from('a'))) < 0);
});

test.run();
