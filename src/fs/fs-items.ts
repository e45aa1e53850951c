/*
 * The filesystem's reads of the index: inodes, directory entries, backrefs, xattrs, symlink
 * targets, extents, orphans and the allocation and reservation records, decoded.
 *
 * Everything the deciders look at comes through here, from the LSM read path (memtable, then
 * runs); this file knows the item keys and values so fs.ts does not. Every decode names the
 * item it came from, so a malformed value is an EIO that says where.
 */

import { decodeInode, decodeItem, type InodeRecord } from '../format/item-schema.js';
import {
  allocKey,
  backrefKey,
  decodeKey,
  direntKey,
  extentKey,
  inodeCountKey,
  inodeKey,
  inodeReservationKey,
  orphanKey,
  readdirKey,
  symlinkKey,
  xattrKey,
} from '../format/key.js';
import type { KeyRange } from '../projections/item.js';

const MAX = Number.MAX_SAFE_INTEGER;
const MAX_TAIL = Buffer.alloc(256, 0xff);

/** Longest extent the data path maps: bounds how far back a read looks for the extent it needs. */
export const MAX_EXTENT_BLOCKS = 256;

export interface ItemSource {
  get(key: Buffer): Promise<Buffer | null>;
  /** The value when it is known without IO (memtables, bloom filters); undefined: ask `get`. */
  peek?(key: Buffer): Buffer | null | undefined;
  /** Live items of a range, streamed: for ranges that may not fit in memory. */
  scan(range: KeyRange): AsyncIterable<[Buffer, Buffer]>;
  /** Live items of a range, all at once. */
  collect(range: KeyRange): Promise<[Buffer, Buffer][]>;
}

export interface Dirent {
  ino: number;
  dtype: number;
  pos: number;
}

export interface DirEntry extends Dirent {
  name: Buffer;
}

export interface Backref {
  dir: number;
  pos: number;
  name: Buffer;
}

export interface Extent {
  logical: number;
  physical: number;
  count: number;
}

export interface Allocation {
  physical: number;
  count: number;
  ino: number;
}

export class FsItems {
  constructor(private readonly src: ItemSource) {}

  async inode(ino: number): Promise<InodeRecord | null> {
    const b = await this.src.get(inodeKey(ino));
    return b && decodeInode(b, `inode ${ino}`);
  }

  /** As inode, when the answer is in memory; undefined when it needs a read. */
  inodeNow(ino: number): InodeRecord | null | undefined {
    const b = this.src.peek?.(inodeKey(ino));
    return b && decodeInode(b, `inode ${ino}`);
  }

  /** As lookup, when the answer is in memory; undefined when it needs a read. */
  lookupNow(dir: number, name: Buffer): Dirent | null | undefined {
    const b = this.src.peek?.(direntKey(dir, name));
    return b && this.dirent(dir, b);
  }

  async lookup(dir: number, name: Buffer): Promise<Dirent | null> {
    const b = await this.src.get(direntKey(dir, name));
    return b && this.dirent(dir, b);
  }

  private dirent(dir: number, b: Buffer): Dirent {
    const d = decodeItem('dirent', b, `dirent in ${dir}`);
    return { ino: d.ino as number, dtype: d.dtype as number, pos: d.pos as number };
  }

  async readdir(dir: number): Promise<DirEntry[]> {
    const out: DirEntry[] = [];
    const range = { first: readdirKey(dir, 0), last: readdirKey(dir, MAX) };
    for (const [key, value] of await this.src.collect(range)) {
      const d = decodeItem('readdir', value, `readdir of ${dir}`);
      out.push({
        ino: d.ino as number,
        dtype: d.dtype as number,
        pos: decodeKey(key).b,
        name: Buffer.from(d.name as Uint8Array),
      });
    }
    return out;
  }

  async isEmptyDir(dir: number): Promise<boolean> {
    for await (const _ of this.src.scan({ first: readdirKey(dir, 0), last: readdirKey(dir, MAX) }))
      return false;
    return true;
  }

  async readdirPosTaken(dir: number, pos: number): Promise<boolean> {
    return (await this.src.get(readdirKey(dir, pos))) !== null;
  }

  async backrefs(ino: number): Promise<Backref[]> {
    const out: Backref[] = [];
    const range = {
      first: backrefKey(ino, 0, 0, Buffer.alloc(0)),
      last: backrefKey(ino, MAX, MAX, MAX_TAIL),
    };
    for (const [key] of await this.src.collect(range)) {
      const k = decodeKey(key);
      out.push({ dir: k.b, pos: k.c, name: Buffer.from(k.tail) });
    }
    return out;
  }

  async symlink(ino: number): Promise<Buffer | null> {
    return this.src.get(symlinkKey(ino));
  }

  async xattr(ino: number, name: Buffer): Promise<Buffer | null> {
    return this.src.get(xattrKey(ino, name));
  }

  async xattrNames(ino: number): Promise<Buffer[]> {
    const out: Buffer[] = [];
    const range = { first: xattrKey(ino, Buffer.alloc(0)), last: xattrKey(ino, MAX_TAIL) };
    for (const [key] of await this.src.collect(range)) out.push(Buffer.from(decodeKey(key).tail));
    return out;
  }

  /** Extents that overlap file blocks [first, last], in logical order. */
  async extents(ino: number, first: number, last: number): Promise<Extent[]> {
    const out: Extent[] = [];
    const from = Math.max(0, first - MAX_EXTENT_BLOCKS + 1);
    // collected, not streamed: the extents are gathered into one array anyway
    for (const [key, value] of await this.src.collect({
      first: extentKey(ino, from),
      last: extentKey(ino, last),
    })) {
      const logical = decodeKey(key).b;
      const x = decodeItem('extent', value, `extent of inode ${ino} at ${logical}`);
      const count = x.count as number;
      if (logical + count <= first) continue;
      out.push({ logical, physical: x.physical as number, count });
    }
    return out;
  }

  /** Every extent of the inode at or after file block `first`. */
  async extentsFrom(ino: number, first: number): Promise<Extent[]> {
    return this.extents(ino, first, MAX);
  }

  async orphans(): Promise<number[]> {
    const out: number[] = [];
    for await (const [key] of this.src.scan({ first: orphanKey(0), last: orphanKey(MAX) }))
      out.push(decodeKey(key).a);
    return out;
  }

  async isOrphan(ino: number): Promise<boolean> {
    return (await this.src.get(orphanKey(ino))) !== null;
  }

  async *allocations(): AsyncGenerator<Allocation> {
    for await (const [key, value] of this.src.scan({ first: allocKey(0), last: allocKey(MAX) })) {
      const physical = decodeKey(key).a;
      const a = decodeItem('alloc', value, `allocation at block ${physical}`);
      yield { physical, count: a.count as number, ino: a.ino as number };
    }
  }

  /** The first inode number no reservation has handed out. */
  async inodeReservation(): Promise<number> {
    const b = await this.src.get(inodeReservationKey());
    return b ? (decodeItem('reservation', b, 'inode reservation').next as number) : 0;
  }

  async inodeCount(): Promise<number> {
    const b = await this.src.get(inodeCountKey());
    return b ? (decodeItem('count', b, 'inode count').count as number) : 0;
  }
}
