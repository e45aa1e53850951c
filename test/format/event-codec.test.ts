import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FsError } from '../../src/errors.js';
import { cborEncode } from '../../src/format/cbor.js';
import {
  decodeEvents,
  encodeEvent,
  encodeEventRun,
  encodeEvents,
  eventListHead,
} from '../../src/format/event-codec.js';
import {
  type AnyEvent,
  EVENT_SCHEMA,
  type EventFieldType,
  type EventType,
} from '../../src/format/event-schema.js';

/** One event of every type, with every field filled from the schema. */
function oneOfEach(): AnyEvent[] {
  return (Object.keys(EVENT_SCHEMA) as EventType[]).map((type, i) => {
    const e: Record<string, unknown> = { type };
    for (const [name, ftype] of EVENT_SCHEMA[type].fields as readonly (readonly [string, EventFieldType])[]) {
      if (ftype === 'uint') e[name] = 2 ** 40 + i;
      else if (ftype === 'int') e[name] = -i;
      else if (ftype === 'time') e[name] = { sec: 1_700_000_000 + i, nsec: 999_999_999 };
      else e[name] = Buffer.from([0xff, 0x00, i, 0x2f]);
    }
    return e as unknown as AnyEvent;
  });
}

test('event codec - every event type round-trips with all its fields', () => {
  const events = oneOfEach();
  assert.equal(decodeEvents(encodeEvents(events), 'test'), events);
});

test('event codec - concatenated single events equal the list encoding', () => {
  const events = oneOfEach();
  const joined = Buffer.concat([eventListHead(events.length), ...events.map(encodeEvent)]);
  assert.ok(joined.equals(encodeEvents(events)));
  for (const n of [1, 23, 24, 255, 256, 70000]) {
    const some = Array.from({ length: n }, (_, i) => events[i % events.length]!);
    const run = Buffer.concat([eventListHead(n), encodeEventRun(some)]);
    assert.ok(run.equals(encodeEvents(some)), `run of ${n}`);
  }
  const many = Array.from({ length: 70000 }, () => events[0]!);
  const big = Buffer.concat([eventListHead(many.length), ...many.map(encodeEvent)]);
  assert.is(decodeEvents(big, 'test').length, 70000);
});

test('event codec - encoding is deterministic', () => {
  const a = encodeEvents(oneOfEach());
  encodeEvents([{ type: 'OrphanAdded', ino: 5 }]);
  assert.ok(a.equals(encodeEvents(oneOfEach())));
});

test('event codec - refuses to encode an invalid field', () => {
  assert.throws(() => encodeEvent({ type: 'OrphanAdded', ino: -1 }), /OrphanAdded.ino/);
  assert.throws(() => encodeEvent({ type: 'OrphanAdded', ino: 1.5 }), /not a valid uint/);
  const badTime = { type: 'FileTruncated', ino: 1, size: 0, time: { sec: 0, nsec: 1e9 } } as const;
  assert.throws(() => encodeEvent(badTime), /time/);
});

test('event codec - malformed payloads are EIO naming the event', () => {
  const cases: [unknown, RegExp][] = [
    [{ not: 'a list' }, /not a list/],
    [[[999, 1]], /unknown event code 999/],
    [[[15]], /OrphanAdded has 0 fields/],
    [[[15, 'x']], /OrphanAdded.ino is not a valid uint/],
    [[[14, 1, 2, [3, -4]]], /FileTruncated.time/],
    [['junk'], /not an event/],
  ];
  for (const [wire, message] of cases) {
    try {
      decodeEvents(cborEncode(wire), 'slot 0 lsn 9');
      assert.unreachable('decoded a malformed payload');
    } catch (err) {
      assert.instance(err, FsError);
      assert.is((err as FsError).code, 'EIO');
      assert.match((err as Error).message, message);
      assert.match((err as Error).message, /slot 0 lsn 9/);
    }
  }
  assert.throws(() => decodeEvents(Buffer.from([0x9f, 0x01]), 'x'), /undecodable/);
});

test.run();
