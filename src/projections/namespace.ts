/*
 * Walking the namespace from the root through readdir items: every path with its inode.
 *
 * Used by the replay tool to show the filesystem as it was at a seq. Directories are visited
 * in readdir order (creation order), depth first; a directory reached twice (which a correct
 * index never allows) is not descended into again.
 */

import { decodeInode, decodeItem, type InodeRecord } from '../format/item-schema.js';
import { encodeKey, FS_TYPE, inodeKey, ZONE } from '../format/key.js';
import { DT_DIR } from './inode-record.js';
import type { KeyRange } from './item.js';

export interface ItemReader {
  get(key: Buffer): Promise<Buffer | null>;
  scan(range: KeyRange): AsyncIterable<[Buffer, Buffer]> | Iterable<[Buffer, Buffer]>;
}

export interface PathEntry {
  path: string;
  inode: InodeRecord;
}

export async function* walkNamespace(items: ItemReader, rootIno: number): AsyncGenerator<PathEntry> {
  const seen = new Set<number>();
  async function* visit(ino: number, path: string): AsyncGenerator<PathEntry> {
    const bytes = await items.get(inodeKey(ino));
    if (!bytes) return;
    yield { path, inode: decodeInode(bytes, `inode ${ino}`) };
    const range = {
      first: encodeKey(ZONE.fs, ino, FS_TYPE.readdir, 0),
      last: encodeKey(ZONE.fs, ino, FS_TYPE.readdir, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER),
    };
    const children: { ino: number; dtype: number; name: string }[] = [];
    for await (const [, value] of items.scan(range)) {
      const d = decodeItem('readdir', value, `readdir of ${ino}`);
      children.push({
        ino: d.ino as number,
        dtype: d.dtype as number,
        name: Buffer.from(d.name as Uint8Array).toString('utf8'),
      });
    }
    for (const c of children) {
      const childPath = `${path === '/' ? '' : path}/${c.name}`;
      if (c.dtype === DT_DIR) {
        if (seen.has(c.ino)) continue;
        seen.add(c.ino);
        yield* visit(c.ino, childPath);
      } else {
        const b = await items.get(inodeKey(c.ino));
        if (b) yield { path: childPath, inode: decodeInode(b, `inode ${c.ino}`) };
      }
    }
  }
  seen.add(rootIno);
  yield* visit(rootIno, '/');
}
