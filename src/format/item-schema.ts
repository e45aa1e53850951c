/*
 * The values of index items: what each key of format/key.ts maps to.
 *
 * Structured values are CBOR arrays in the field order given here (like events), so the same
 * record always encodes to the same bytes and a replay can be compared byte for byte with the
 * live index. Backrefs, orphans and the seq index items carry no value: the key says it all.
 * Xattr values and symlink targets are stored as their raw bytes.
 */

import { EIO } from '../errors.js';
import { cborDecode, cborEncode } from './cbor.js';

export const ITEM_SCHEMA = {
  inode: [
    'ino',
    'mode',
    'uid',
    'gid',
    'rdev',
    'nlink',
    'size',
    'atimeSec',
    'atimeNsec',
    'mtimeSec',
    'mtimeNsec',
    'ctimeSec',
    'ctimeNsec',
    'crtimeSec',
    'crtimeNsec',
    'metaSeq',
    'dataSeq',
    'dataVersion',
    'onlineBlocks',
    'offlineBlocks',
  ],
  dirent: ['ino', 'dtype', 'pos'],
  readdir: ['ino', 'dtype', 'name'],
  extent: ['physical', 'count'],
  alloc: ['ino', 'logical', 'count'],
  reservation: ['next'],
  count: ['count'],
} as const;

type Fields<K extends keyof typeof ITEM_SCHEMA> = (typeof ITEM_SCHEMA)[K][number];
export type InodeRecord = { [F in Fields<'inode'>]: number };
export type DirentRecord = { [F in Fields<'dirent'>]: number };
export type ReaddirRecord = { ino: number; dtype: number; name: Uint8Array };
export type ExtentRecord = { [F in Fields<'extent'>]: number };
export type AllocRecord = { [F in Fields<'alloc'>]: number };

type RecordOf<K extends keyof typeof ITEM_SCHEMA> = Record<Fields<K>, unknown>;

/**
 * Decoded values of the encodings this process made, by the identity of their bytes: the
 * memtable holds the very buffers encodeItem returned, so reading an item that was written
 * since the last flush costs no decode. The record given to encodeItem is the one cached:
 * records are values, never changed in place (transitions produce new ones with immer), so
 * sharing it is safe. (Not frozen: Object.freeze costs more than the decode it saves.)
 */
const decoded = new WeakMap<Uint8Array, { kind: string; rec: object }>();
/** The kinds read on every operation; the others (readdir positions, allocations) are not worth the memory. */
const CACHED = new Set<string>(['inode', 'dirent', 'extent', 'count']);

export function encodeItem<K extends keyof typeof ITEM_SCHEMA>(kind: K, rec: RecordOf<K>): Buffer {
  const fields = ITEM_SCHEMA[kind];
  const wire = new Array<unknown>(fields.length);
  for (let i = 0; i < fields.length; i++) wire[i] = (rec as Record<string, unknown>)[fields[i]!];
  const bytes = cborEncode(wire);
  if (CACHED.has(kind)) decoded.set(bytes, { kind, rec });
  return bytes;
}

export function decodeItem<K extends keyof typeof ITEM_SCHEMA>(
  kind: K,
  bytes: Uint8Array,
  what: string,
): RecordOf<K> {
  const hit = decoded.get(bytes);
  if (hit !== undefined && hit.kind === kind) return hit.rec as RecordOf<K>;
  const fields = ITEM_SCHEMA[kind];
  let v: unknown;
  try {
    v = cborDecode(bytes);
  } catch {
    v = null;
  }
  if (!Array.isArray(v) || v.length !== fields.length) throw EIO(`${what}: malformed ${kind} item`);
  const rec: Record<string, unknown> = {};
  for (let i = 0; i < fields.length; i++) rec[fields[i]!] = v[i];
  return rec as RecordOf<K>;
}

export const encodeInode = (r: InodeRecord) => encodeItem('inode', r);
export const decodeInode = (b: Uint8Array, what: string) => decodeItem('inode', b, what) as InodeRecord;
