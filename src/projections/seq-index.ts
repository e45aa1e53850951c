/*
 * Walking the change indexes: (seq, ino) entries between two seqs, in order.
 *
 * scoutfs calls the two parts of an index entry major and minor; for meta_seq and data_seq the
 * major is the seq and the minor is always 0.
 */

import { dataSeqKey, decodeKey, metaSeqKey, ZONE } from '../format/key.js';
import type { KeyRange } from './item.js';

export type SeqIndexName = 'meta_seq' | 'data_seq';
export const SEQ_INDEXES: readonly SeqIndexName[] = ['meta_seq', 'data_seq'];

export interface IndexEntry {
  major: number;
  minor: number;
  ino: number;
}

export function seqIndexRange(index: SeqIndexName, first: number, last: number): KeyRange {
  const key = index === 'meta_seq' ? metaSeqKey : dataSeqKey;
  return { first: key(first, 0), last: key(last, Number.MAX_SAFE_INTEGER) };
}

export function indexEntryOf(key: Buffer): IndexEntry {
  const k = decodeKey(key);
  if (k.zone !== ZONE.metaSeq && k.zone !== ZONE.dataSeq) throw new RangeError('not a seq index key');
  return { major: k.a, minor: 0, ino: k.b };
}
