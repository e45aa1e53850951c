import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FORMAT_DEFINITION, FORMAT_HASH_HEX, formatHashOf } from '../../src/format/format-hash.js';

// The hash of the format as of the last deliberate format change. When this test fails, the
// on-device format changed: make sure that was meant (old volumes will be refused), then
// update this value in the same commit.
const GOLDEN = 'a0a96dc8d91e3447';

type Path = (string | number)[];

/** The hash of the definition with the value at `path` replaced (a copy; the original stays). */
function hashWith(path: Path, value: unknown): string {
  const d: unknown = JSON.parse(JSON.stringify(FORMAT_DEFINITION));
  let node = d as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  const last = path.at(-1)!;
  assert.ok(last in node || Array.isArray(node), `no ${path.join('.')} in the definition`);
  node[last] = value;
  return formatHashOf(d).toString('hex');
}

test('format hash - is the hash of the definitions, unchanged since the last deliberate change', () => {
  assert.is(formatHashOf(FORMAT_DEFINITION).toString('hex'), FORMAT_HASH_HEX);
  assert.is(FORMAT_HASH_HEX, GOLDEN);
});

test('format hash - changes when an event gains a field', () => {
  const fields = FORMAT_DEFINITION.events.InodeCreated.fields.length;
  assert.is.not(hashWith(['events', 'InodeCreated', 'fields', fields], ['flags', 'uint']), FORMAT_HASH_HEX);
});

test('format hash - changes when a struct field changes width or order', () => {
  assert.is.not(hashWith(['structs', 1, 'fields', 3], ['version', 'u64']), FORMAT_HASH_HEX);
  assert.is.not(hashWith(['structs', 0, 'fields', 0], ['crc', 'u32']), FORMAT_HASH_HEX);
});

test('format hash - changes with a magic, a key zone, an event code, a limit or a cbor option', () => {
  const edits: [Path, unknown][] = [
    [['magic', 'record'], 1],
    [['key', 'zones', 'fs'], 9],
    [['events', 'XattrSet', 'code'], 99],
    [['limits', 'nameMax'], 1024],
    [['cbor', 'useRecords'], true],
    [['blockSize'], 8192],
  ];
  for (const [path, value] of edits) assert.is.not(hashWith(path, value), FORMAT_HASH_HEX, path.join('.'));
});

test('format hash - does not depend on the order object keys were declared in', () => {
  const reordered = Object.fromEntries(Object.entries(FORMAT_DEFINITION).reverse());
  assert.is(formatHashOf(reordered).toString('hex'), FORMAT_HASH_HEX);
});

test.run();
