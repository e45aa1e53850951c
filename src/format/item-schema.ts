/*
 * The values of index items: what each key of format/key.ts maps to.
 *
 * Structured values are CBOR arrays in the field order given here (like events), so the same
 * record always encodes to the same bytes and a replay can be compared byte for byte with the
 * live index. Backrefs, orphans and the seq index items carry no value: the key says it all.
 * Xattr values and symlink targets are stored as their raw bytes.
 */

import { EIO } from '../errors.js';
import { cborDecode, cborEncodeFields } from './cbor.js';

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
    'xattrs',
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

export function encodeItem<K extends keyof typeof ITEM_SCHEMA>(kind: K, rec: RecordOf<K>): Buffer {
  const fields = ITEM_SCHEMA[kind];
  const wire = new Array<number | Uint8Array>(fields.length);
  for (let i = 0; i < fields.length; i++) wire[i] = (rec as Record<string, number | Uint8Array>)[fields[i]!]!;
  return cborEncodeFields(wire);
}

export function decodeItem<K extends keyof typeof ITEM_SCHEMA>(
  kind: K,
  bytes: Uint8Array,
  what: string,
): RecordOf<K> {
  const fields = ITEM_SCHEMA[kind];
  let v: unknown;
  try {
    v = cborDecode(bytes);
  } catch {
    v = null;
  }
  if (!Array.isArray(v) || v.length !== fields.length) throw EIO(`${what}: malformed ${kind} item`);
  if (kind === 'inode') return inodeFromWire(v) as RecordOf<K>;
  const rec: Record<string, unknown> = {};
  for (let i = 0; i < fields.length; i++) rec[fields[i]!] = v[i];
  return rec as RecordOf<K>;
}

/**
 * An inode record built as one object literal: with its 21 fields added one by one, V8 would
 * keep the object in dictionary mode, and every copy of it (each immer transition) would cost
 * over a hundred times more.
 */
function inodeFromWire(v: unknown[]): InodeRecord {
  const n = v as number[];
  return {
    ino: n[0]!,
    mode: n[1]!,
    uid: n[2]!,
    gid: n[3]!,
    rdev: n[4]!,
    nlink: n[5]!,
    size: n[6]!,
    atimeSec: n[7]!,
    atimeNsec: n[8]!,
    mtimeSec: n[9]!,
    mtimeNsec: n[10]!,
    ctimeSec: n[11]!,
    ctimeNsec: n[12]!,
    crtimeSec: n[13]!,
    crtimeNsec: n[14]!,
    metaSeq: n[15]!,
    dataSeq: n[16]!,
    dataVersion: n[17]!,
    onlineBlocks: n[18]!,
    offlineBlocks: n[19]!,
    xattrs: n[20]!,
  };
}

export const encodeInode = (r: InodeRecord) => encodeItem('inode', r);
export const decodeInode = (b: Uint8Array, what: string) => decodeItem('inode', b, what) as InodeRecord;
