/*
 * Verifying an index: against a replay of the logs, and against its own invariants.
 *
 * Replay comparison is the strong check: when every log still holds its history back to mkfs,
 * the items rebuilt from the logs must equal the index item for item, byte for byte. The
 * structural checks hold whatever history is retained: every run block passes its checks,
 * every inode has exactly the meta_seq (and for files, data_seq) entry its record names and no
 * index entry points at nothing, every name has its readdir entry and its backref, and every
 * link count equals the names that link the inode.
 */

import { decodeInode, decodeItem } from '../format/item-schema.js';
import { dataSeqKey, decodeKey, encodeKey, FS_TYPE, metaSeqKey, readdirKey, ZONE } from '../format/key.js';
import { MAX_KEY } from '../lsm/lsm.js';
import { isDir, isReg } from '../projections/inode-record.js';
import type { Store } from './store.js';

export interface Difference {
  key: string;
  index: string;
  replay: string;
}

/** Differences between two sorted item streams (at most `limit`), and how many items matched. */
export async function compareItems(
  index: AsyncIterable<[Buffer, Buffer]>,
  replay: Iterable<[Buffer, Buffer]>,
  limit = 10,
): Promise<{ differences: Difference[]; matched: number; total: number }> {
  const differences: Difference[] = [];
  const it = replay[Symbol.iterator]();
  let r = it.next();
  let matched = 0;
  let total = 0;
  const note = (key: Buffer, a: Buffer | null, b: Buffer | null) => {
    total += 1;
    if (differences.length < limit) {
      differences.push({
        key: describeKey(key),
        index: a ? a.toString('hex') : '(absent)',
        replay: b ? b.toString('hex') : '(absent)',
      });
    }
  };
  for await (const [k, v] of index) {
    while (!r.done && Buffer.compare(r.value[0], k) < 0) {
      note(r.value[0], null, r.value[1]);
      r = it.next();
    }
    if (!r.done && r.value[0].equals(k)) {
      if (r.value[1].equals(v)) matched += 1;
      else note(k, v, r.value[1]);
      r = it.next();
    } else note(k, v, null);
  }
  for (; !r.done; r = it.next()) note(r.value[0], null, r.value[1]);
  return { differences, matched, total };
}

/** Structural problems of the index (at most `limit` described). */
export async function checkIndex(
  store: Store,
  limit = 10,
): Promise<{ problems: string[]; inodes: number; runUnits: number }> {
  const problems: string[] = [];
  const problem = (p: string) => {
    if (problems.length < limit) problems.push(p);
  };
  let runUnits = 0;
  for (const reader of store.lsm.runReaders) runUnits += await reader.checkAll();
  const get = (k: Buffer) => store.lsm.get(k);
  let inodes = 0;
  const links = new Map<number, number>();
  const subdirs = new Map<number, number>();
  const nlinks = new Map<number, { nlink: number; dir: boolean }>();
  const xattrCounts = new Map<number, number>();
  const xattrItems = new Map<number, number>();
  const fsRange = {
    first: encodeKey(ZONE.fs, 0),
    last: encodeKey(ZONE.fs, Number.MAX_SAFE_INTEGER, 255, 0, 0, MAX_KEY),
  };
  for await (const [key, value] of store.lsm.scan(fsRange)) {
    const k = decodeKey(key);
    if (k.type === FS_TYPE.inode) {
      inodes += 1;
      const rec = decodeInode(value, `inode ${k.a}`);
      if (!(await get(metaSeqKey(rec.metaSeq, k.a))))
        problem(`inode ${k.a}: no meta_seq entry at ${rec.metaSeq}`);
      if (isReg(rec.mode) && !(await get(dataSeqKey(rec.dataSeq, k.a))))
        problem(`inode ${k.a}: no data_seq entry at ${rec.dataSeq}`);
      nlinks.set(k.a, { nlink: rec.nlink, dir: isDir(rec.mode) });
      xattrCounts.set(k.a, rec.xattrs);
    } else if (k.type === FS_TYPE.xattr) {
      xattrItems.set(k.a, (xattrItems.get(k.a) ?? 0) + 1);
    } else if (k.type === FS_TYPE.dirent) {
      const d = decodeItem('dirent', value, `dirent in ${k.a}`);
      if (!(await get(readdirKey(k.a, d.pos as number))))
        problem(`dir ${k.a} name ${show(k.tail)}: no readdir entry`);
      if (!(await get(encodeKey(ZONE.fs, d.ino as number, FS_TYPE.backref, k.a, d.pos as number, k.tail)))) {
        problem(`dir ${k.a} name ${show(k.tail)}: no backref on inode ${d.ino}`);
      }
    } else if (k.type === FS_TYPE.backref) {
      links.set(k.a, (links.get(k.a) ?? 0) + 1);
    } else if (k.type === FS_TYPE.readdir) {
      const d = decodeItem('readdir', value, `readdir in ${k.a}`);
      if (d.dtype === 4) subdirs.set(k.a, (subdirs.get(k.a) ?? 0) + 1);
    }
  }
  for (const [ino, { nlink, dir }] of nlinks) {
    const expected = dir ? 2 + (subdirs.get(ino) ?? 0) : (links.get(ino) ?? 0);
    if (nlink !== expected) problem(`inode ${ino}: nlink ${nlink}, expected ${expected} from its names`);
  }
  for (const [ino, count] of xattrCounts) {
    const items = xattrItems.get(ino) ?? 0;
    if (count !== items) problem(`inode ${ino}: counts ${count} xattrs, ${items} xattr items exist`);
  }
  for (const ino of xattrItems.keys())
    if (!xattrCounts.has(ino)) problem(`xattr items of inode ${ino}, which does not exist`);
  for (const zone of [ZONE.metaSeq, ZONE.dataSeq]) {
    for await (const [key] of store.lsm.scan({
      first: encodeKey(zone, 0),
      last: encodeKey(zone, Number.MAX_SAFE_INTEGER, 255, Number.MAX_SAFE_INTEGER),
    })) {
      const k = decodeKey(key);
      const bytes = await get(encodeKey(ZONE.fs, k.b, FS_TYPE.inode));
      const rec = bytes ? decodeInode(bytes, `inode ${k.b}`) : null;
      const seq = rec && (zone === ZONE.metaSeq ? rec.metaSeq : rec.dataSeq);
      if (seq !== k.a)
        problem(
          `${zone === ZONE.metaSeq ? 'meta_seq' : 'data_seq'} entry (${k.a}, ${k.b}) does not match its inode`,
        );
    }
  }
  return { problems, inodes, runUnits };
}

export function describeKey(key: Buffer): string {
  const k = decodeKey(key);
  const zone = Object.entries(ZONE).find(([, z]) => z === k.zone)?.[0] ?? `zone${k.zone}`;
  const type = Object.entries(FS_TYPE).find(([, t]) => t === k.type)?.[0];
  const tail = k.tail.length ? ` ${show(k.tail)}` : '';
  return k.zone === ZONE.fs
    ? `${zone} ino ${k.a} ${type ?? k.type} ${k.b}.${k.c}${tail}`
    : `${zone} ${k.a} ino ${k.b}`;
}

const show = (b: Uint8Array) => JSON.stringify(Buffer.from(b).toString('utf8'));
