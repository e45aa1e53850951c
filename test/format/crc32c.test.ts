import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { crc32c } from '../../src/format/crc32c.js';

test('crc32c - matches the standard check value', () => {
  assert.is(crc32c(Buffer.from('123456789')), 0xe3069283);
  assert.is(crc32c(Buffer.alloc(0)), 0);
  assert.is(crc32c(Buffer.alloc(32, 0)), 0x8a9136aa);
  assert.is(crc32c(Buffer.alloc(32, 0xff)), 0x62a8ab43);
});

test('crc32c - chained over parts equals over the whole, at every split', () => {
  const data = Buffer.from(Array.from({ length: 100 }, (_, i) => (i * 37 + 11) & 0xff));
  const whole = crc32c(data);
  for (let cut = 0; cut <= data.length; cut++) {
    assert.is(crc32c(data, cut, data.length, crc32c(data, 0, cut)), whole, `split at ${cut}`);
  }
});

test('crc32c - a single flipped bit changes the value', () => {
  const data = Buffer.alloc(4096, 0x5a);
  const base = crc32c(data);
  for (const at of [0, 1, 7, 8, 4095]) {
    const copy = Buffer.from(data);
    copy[at]! ^= 1;
    assert.is.not(crc32c(copy), base);
  }
});

test.run();
