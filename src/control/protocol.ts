/*
 * The control channel's wire format: one JSON request per line from the CLI, answered by one
 * or more JSON lines from the mount. A reply is {ok: true, result} or {ok: false, code,
 * message}; a walk streams {entries: [...]} lines before its final reply.
 */

import type { SeqIndexName } from '../projections/seq-index.js';

export type ControlRequest =
  | { op: 'ping' }
  | { op: 'walk'; index: SeqIndexName; first: number; last: number }
  | { op: 'stat'; ino: number }
  | { op: 'statfs' }
  | { op: 'inoPath'; ino: number }
  | { op: 'sync' }
  | { op: 'counters' }
  | { op: 'unmount' };

export type ControlReply =
  | { ok: true; result: unknown }
  | { ok: false; code: string; message: string }
  | { entries: { major: number; minor: number; ino: number }[] };

/** Entries per streamed walk line. */
export const WALK_CHUNK = 4096;
