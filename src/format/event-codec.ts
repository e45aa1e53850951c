/*
 * Events to bytes and back.
 *
 * An event is encoded as the CBOR array [code, field1, field2, ...] in schema order; a time is
 * [sec, nsec]. Decoding checks everything it can (a known code, the field count, each field's
 * type and range) because a record that passed its crc can still have been written by buggy
 * code, and a replay must never fold a malformed event into the index.
 */

import { EIO } from '../errors.js';
import { type CborFields, cborArrayHead, cborDecode, cborEncodeFields, cborEncodeRun } from './cbor.js';
import {
  type AnyEvent,
  EVENT_SCHEMA,
  type EventDef,
  type EventFieldType,
  type EventType,
  type Timespec,
} from './event-schema.js';

type Wire = [number, ...(number | Uint8Array | CborFields)[]];
const BY_CODE = new Map<number, [EventType, EventDef]>(
  (Object.entries(EVENT_SCHEMA) as [EventType, EventDef][]).map(([type, def]) => [def.code, [type, def]]),
);

export function encodeEvents(events: readonly AnyEvent[]): Buffer {
  return cborEncodeFields(events.map(toWire));
}

/** One event alone; a list of these concatenated after `eventListHead(n)` equals encodeEvents. */
export function encodeEvent(event: AnyEvent): Buffer {
  return cborEncodeFields(toWire(event));
}

/**
 * Several events as one concatenation of their encodings (no list head): what encodeEvent of
 * each would give, in one buffer.
 */
export function encodeEventRun(events: readonly AnyEvent[]): Buffer {
  return cborEncodeRun(events.map(toWire));
}

export const eventListHead = cborArrayHead;

export function decodeEvents(bytes: Uint8Array, what: string): AnyEvent[] {
  let wire: unknown;
  try {
    wire = cborDecode(bytes);
  } catch (err) {
    throw EIO(`${what}: undecodable event payload (${(err as Error).message})`);
  }
  if (!Array.isArray(wire)) throw EIO(`${what}: event payload is not a list`);
  return wire.map((w, i) => fromWire(w, `${what} event ${i}`));
}

function toWire(e: AnyEvent): Wire {
  const def: EventDef = EVENT_SCHEMA[e.type];
  const fields = e as unknown as Record<string, unknown>;
  const out: Wire = [def.code];
  for (const [name, type] of def.fields) {
    const v = fields[name];
    if (!valid(type, v)) throw new TypeError(`${e.type}.${name}: ${String(v)} is not a valid ${type}`);
    out.push(type === 'time' ? [(v as Timespec).sec, (v as Timespec).nsec] : (v as number | Uint8Array));
  }
  return out;
}

function fromWire(w: unknown, what: string): AnyEvent {
  if (!Array.isArray(w) || typeof w[0] !== 'number') throw EIO(`${what}: not an event`);
  const known = BY_CODE.get(w[0]);
  if (!known) throw EIO(`${what}: unknown event code ${w[0]}`);
  const [type, def] = known;
  if (w.length !== def.fields.length + 1) throw EIO(`${what}: ${type} has ${w.length - 1} fields`);
  const out: Record<string, unknown> = { type };
  def.fields.forEach(([name, ftype], i) => {
    let v = w[i + 1];
    if (ftype === 'time' && Array.isArray(v) && v.length === 2) v = { sec: v[0], nsec: v[1] };
    if (!valid(ftype, v)) throw EIO(`${what}: ${type}.${name} is not a valid ${ftype}`);
    out[name] = v;
  });
  return out as unknown as AnyEvent;
}

function valid(type: EventFieldType, v: unknown): boolean {
  switch (type) {
    case 'uint':
      return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
    case 'int':
      return typeof v === 'number' && Number.isSafeInteger(v);
    case 'bytes':
      return v instanceof Uint8Array;
    case 'time': {
      const t = v as Timespec | null;
      return (
        typeof t === 'object' &&
        t !== null &&
        Number.isSafeInteger(t.sec) &&
        Number.isInteger(t.nsec) &&
        t.nsec >= 0 &&
        t.nsec < 1e9
      );
    }
  }
}
