import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FORMAT_DEFINITION, FORMAT_HASH_HEX, formatHashOf } from '../../src/format/format-hash.js';

// The hash of the format as of the last deliberate format change. When this test fails, the
// on-device format changed: make sure that was meant (old volumes will be refused), then
// update this value in the same commit.
const GOLDEN = 'f2c1e64cdab040df';

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v));

test('format hash - is the hash of the definitions, unchanged since the last deliberate change', () => {
  assert.is(formatHashOf(FORMAT_DEFINITION).toString('hex'), FORMAT_HASH_HEX);
  assert.is(FORMAT_HASH_HEX, GOLDEN);
});

test('format hash - changes when an event gains a field', () => {
  const d = clone(FORMAT_DEFINITION);
  d.events.InodeCreated.fields.push(['flags', 'uint']);
  assert.is.not(formatHashOf(d).toString('hex'), FORMAT_HASH_HEX);
});

test('format hash - changes when a struct field changes width or order', () => {
  const wider = clone(FORMAT_DEFINITION);
  wider.structs[1]!.fields[3] = ['version', 'u64'];
  assert.is.not(formatHashOf(wider).toString('hex'), FORMAT_HASH_HEX);
  const swapped = clone(FORMAT_DEFINITION);
  const f = swapped.structs[0]!.fields;
  [f[0], f[1]] = [f[1]!, f[0]!];
  assert.is.not(formatHashOf(swapped).toString('hex'), FORMAT_HASH_HEX);
});

test('format hash - changes with a magic, a key zone, an event code, a limit or a cbor option', () => {
  const edits: ((d: ReturnType<typeof clone<typeof FORMAT_DEFINITION>>) => void)[] = [
    (d) => {
      d.magic.record += 1;
    },
    (d) => {
      d.key.zones.fs = 9;
    },
    (d) => {
      d.events.XattrSet.code = 99;
    },
    (d) => {
      d.limits.nameMax = 1024;
    },
    (d) => {
      d.cbor.useRecords = true as false;
    },
  ];
  for (const edit of edits) {
    const d = clone(FORMAT_DEFINITION);
    edit(d);
    assert.is.not(formatHashOf(d).toString('hex'), FORMAT_HASH_HEX);
  }
});

test('format hash - does not depend on the order object keys were declared in', () => {
  const d = clone(FORMAT_DEFINITION);
  const reordered = Object.fromEntries(Object.entries(d).reverse());
  assert.is(formatHashOf(reordered).toString('hex'), FORMAT_HASH_HEX);
});

test.run();
