import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cborEncode, cborEncodeFields, cborEncodeRun } from '../../src/format/cbor.js';
import { rng } from '../helpers/rng.js';

// the edges of every head size, both signs, and past the 32-bit integers cbor-x writes as floats
const EDGES = [
  0,
  1,
  23,
  24,
  255,
  256,
  65535,
  65536,
  2 ** 32 - 1,
  2 ** 32,
  2 ** 53 - 1,
  -1,
  -24,
  -25,
  -256,
  -257,
  -65536,
  -65537,
  -(2 ** 31),
  -(2 ** 31) - 1,
  -(2 ** 32),
  -(2 ** 32) - 1,
  -(2 ** 53) + 1,
  1.5,
  -0.25,
  1800000000,
  999999999,
];

test('cbor fields - the same bytes as cbor-x for numbers and byte strings of every size', () => {
  for (const v of EDGES) {
    assert.equal(cborEncodeFields([v]).toString('hex'), cborEncode([v]).toString('hex'), `${v}`);
  }
  for (const len of [0, 1, 23, 24, 255, 256, 300, 65536]) {
    const b = Buffer.alloc(len, 7);
    assert.equal(
      cborEncodeFields([b, 5]).toString('hex'),
      cborEncode([b, 5]).toString('hex'),
      `bytes ${len}`,
    );
  }
});

test('cbor fields - random records match cbor-x byte for byte', () => {
  const r = rng(42);
  for (let i = 0; i < 2000; i++) {
    const n = 1 + r.int(22);
    const values = Array.from({ length: n }, () => {
      const pick = r.int(4);
      if (pick === 0) return EDGES[r.int(EDGES.length)]!;
      if (pick === 1) return Buffer.from(Array.from({ length: r.int(40) }, () => r.int(256)));
      if (pick === 2) return r.int(2 ** 31) * (r.int(2) ? 1 : -1);
      return r.int(2 ** 30) * 2 ** r.int(24);
    });
    assert.equal(cborEncodeFields(values).toString('hex'), cborEncode(values).toString('hex'));
  }
});

test('cbor fields - nested arrays, long arrays and runs of arrays match cbor-x', () => {
  const r = rng(7);
  const value = (depth: number): number | Buffer | unknown[] => {
    const pick = r.int(depth > 2 ? 2 : 3);
    if (pick === 0) return EDGES[r.int(EDGES.length)]!;
    if (pick === 1) return Buffer.alloc(r.int(30), r.int(256));
    return Array.from({ length: r.int(30) }, () => value(depth + 1));
  };
  for (let i = 0; i < 500; i++) {
    const lists = Array.from({ length: 1 + r.int(5) }, () => value(0)).filter(Array.isArray) as never[];
    for (const l of lists) assert.equal(cborEncodeFields(l).toString('hex'), cborEncode(l).toString('hex'));
    const run = Buffer.concat(lists.map((l) => cborEncode(l)));
    assert.equal(cborEncodeRun(lists).toString('hex'), run.toString('hex'));
  }
});

test.run();
