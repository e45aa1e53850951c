/*
 * Decoded inode records, by the value buffer they were decoded from (or encoded into).
 *
 * An inode's record is read several times per operation: by the FUSE lookup, by the decider,
 * and by the fold, which then writes a new value. Each read of an unchanged item returns the
 * very Buffer the memtable (or a cached run unit) holds, so a record remembered under that
 * Buffer object is the record its bytes decode to, and the decode can be skipped. The fold
 * remembers each record it writes under the bytes it wrote, so the next reader of that inode
 * finds it decoded.
 *
 * Keys are Buffer identities, never contents: a value that changes is a new Buffer, so a stale
 * entry can only miss. The records handed out are frozen: they are shared by every reader.
 * Bounded: the oldest entries go first once `capacity` is reached.
 */

import { decodeInode, type InodeRecord } from '../format/item-schema.js';

export class InodeCache {
  private readonly records = new Map<Uint8Array, InodeRecord>();
  hits = 0;
  misses = 0;

  constructor(private readonly capacity = 8192) {}

  get size(): number {
    return this.records.size;
  }

  /** The record of inode `ino` that `bytes` holds, decoded once per Buffer. */
  decode(bytes: Uint8Array, ino: number): InodeRecord {
    const known = this.records.get(bytes);
    if (known !== undefined) {
      this.hits++;
      return known;
    }
    this.misses++;
    const rec = decodeInode(bytes, `inode ${ino}`);
    this.remember(bytes, rec);
    return rec;
  }

  /** `rec` is what `bytes` decodes to (the fold just encoded it); it must not change after. */
  remember(bytes: Uint8Array, rec: InodeRecord): void {
    if (this.records.size >= this.capacity) {
      const oldest = this.records.keys().next().value;
      if (oldest !== undefined) this.records.delete(oldest);
    }
    this.records.set(bytes, Object.freeze(rec));
  }
}
