/*
 * The binding's attribute cache (native/fuse-native.patch, patch 7; src/fuse/native-attrs.ts)
 * answers getattr without JS, so every attribute it answers with must be what the filesystem
 * holds at that moment, however the inode or its names changed.
 *
 * A seeded random history of namespace and attribute changes runs through a mount whose kernel
 * caches nothing (attr_timeout=0, entry_timeout=0: every stat reaches the binding). After each
 * step, every name the model knows is lstat'ed through the mount and compared, field by field
 * (mode, owner, links, size, blocks, all three times to the nanosecond), with the inode record
 * the filesystem itself reads for that inode over the control channel; every name the history
 * removed or moved away (a directory's whole subtree) must be gone, and new names often reuse
 * old ones (in a directory that exists again, too). Every directory is made through the mount,
 * so the cache knows all its names and answers ENOENT itself for the others (the lookup before
 * every create). The mount's counters must show most of those stats answered by the cache,
 * and many ENOENTs, or the test proved nothing.
 */

import {
  appendFileSync,
  chmodSync,
  chownSync,
  linkSync,
  lstatSync,
  mkdirSync,
  renameSync,
  rmdirSync,
  symlinkSync,
  truncateSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ask } from '../../cli/mount-query.js';
import type { InodeRecord } from '../../src/format/item-schema.js';
import { errnoOf, suiteMount } from '../helpers/posix.js';
import { rng } from '../helpers/rng.js';

const mnt = suiteMount(test, { options: ['attr_timeout=0', 'entry_timeout=0'] });

type Kind = 'file' | 'dir' | 'symlink';

/** Names, relative to the test's root, and what they are. */
class Model {
  readonly names = new Map<string, Kind>();
  readonly gone = new Set<string>();

  add(name: string, kind: Kind): void {
    this.names.set(name, kind);
    this.gone.delete(name);
  }

  remove(name: string): void {
    this.names.delete(name);
    this.gone.add(name);
  }

  /** `from` and (for a directory) everything under it now live under `to`. */
  move(from: string, to: string): void {
    for (const [n, k] of [...this.names]) {
      if (n === from || n.startsWith(`${from}/`)) {
        this.remove(n);
        this.add(to + n.slice(from.length), k);
      }
    }
  }

  of(kind: Kind): string[] {
    return [...this.names].filter(([, k]) => k === kind).map(([n]) => n);
  }

  isEmptyDir(dir: string): boolean {
    return ![...this.names.keys()].some((n) => n.startsWith(`${dir}/`));
  }
}

function pick<T>(r: ReturnType<typeof rng>, xs: T[]): T | undefined {
  return xs.length === 0 ? undefined : xs[r.int(xs.length)];
}

test('attributes through the cache equal the filesystem after every change of a random history', async () => {
  const m = mnt();
  const root = join(m.dir, 'attr-cache');
  mkdirSync(root);
  const r = rng(20261128);
  const model = new Model();
  let serial = 0;
  // a new name in dir: often one a removed or moved-away inode had, in dir or in any
  // directory that exists again (a cache that kept the old name answers for the wrong inode)
  const fresh = (dir: string, ok = (_n: string) => true) => {
    if (r.int(3) === 0) {
      const again = [...model.gone].filter((n) => {
        const parent = n.includes('/') ? n.slice(0, n.lastIndexOf('/')) : '';
        return ok(n) && !model.names.has(n) && (parent === '' || model.names.get(parent) === 'dir');
      });
      const name = pick(r, again);
      if (name) return name;
    }
    return `${dir === '' ? '' : `${dir}/`}n${serial++}`;
  };
  const at = (name: string) => join(root, name);
  const dirs = () => ['', ...model.of('dir')];
  const STEPS = 150;
  let compared = 0;

  const before = (await ask(m.dir, { op: 'counters' })) as Record<string, number>;
  for (let step = 0; step < STEPS; step++) {
    const files = model.of('file');
    const what = r.int(14);
    let did = '';
    if (what <= 1 || files.length === 0) {
      const name = fresh(pick(r, dirs())!);
      writeFileSync(at(name), Buffer.alloc(r.int(9000), 7));
      model.add(name, 'file');
      did = `create ${name}`;
    } else if (what === 2) {
      const f = pick(r, files)!;
      appendFileSync(at(f), Buffer.alloc(1 + r.int(6000), 1));
      did = `append ${f}`;
    } else if (what === 3) {
      const f = pick(r, files)!;
      truncateSync(at(f), r.int(20000));
      did = `truncate ${f}`;
    } else if (what === 4) {
      const n = pick(
        r,
        [...model.names.keys()].filter((x) => model.names.get(x) !== 'symlink'),
      )!;
      chmodSync(at(n), 0o600 + r.int(0o177));
      did = `chmod ${n}`;
    } else if (what === 5) {
      const n = pick(
        r,
        [...model.names.keys()].filter((x) => model.names.get(x) !== 'symlink'),
      )!;
      chownSync(at(n), 1000 + r.int(3), 2000 + r.int(3));
      did = `chown ${n}`;
    } else if (what === 6) {
      const f = pick(r, files)!;
      utimesSync(at(f), 1_600_000_000 + r.int(1e6), 1_600_000_000 + r.int(1e6));
      did = `utimes ${f}`;
    } else if (what === 7) {
      const name = fresh(pick(r, dirs())!);
      mkdirSync(at(name));
      model.add(name, 'dir');
      did = `mkdir ${name}`;
    } else if (what === 8) {
      const d = pick(
        r,
        model.of('dir').filter((x) => model.isEmptyDir(x)),
      );
      if (!d) continue;
      rmdirSync(at(d));
      model.remove(d);
      did = `rmdir ${d}`;
    } else if (what === 9) {
      const n = pick(r, [...files, ...model.of('symlink')])!;
      unlinkSync(at(n));
      model.remove(n);
      did = `unlink ${n}`;
    } else if (what === 10) {
      // another name for a file: every name of it shows the new link count
      const f = pick(r, files)!;
      const name = fresh(pick(r, dirs())!);
      linkSync(at(f), at(name));
      model.add(name, 'file');
      did = `link ${f} ${name}`;
    } else if (what === 11) {
      // a file to a new name, or over another file
      const f = pick(r, files)!;
      const over =
        r.int(2) === 0
          ? pick(
              r,
              files.filter((x) => x !== f),
            )
          : undefined;
      const to = over ?? fresh(pick(r, dirs())!);
      // two names of one inode: rename does nothing, both stay
      const same = over !== undefined && lstatSync(at(f)).ino === lstatSync(at(over)).ino;
      renameSync(at(f), at(to));
      if (!same) {
        if (over) model.remove(over);
        model.move(f, to);
      }
      did = `rename ${f} ${to}`;
    } else if (what === 12) {
      // a directory, with its subtree, to a new name or over an empty directory
      const d = pick(r, model.of('dir'));
      if (!d) continue;
      const targets = dirs().filter((x) => x !== d && !x.startsWith(`${d}/`));
      const parent = pick(r, targets)!;
      const empty = model
        .of('dir')
        .filter((x) => x !== d && !x.startsWith(`${d}/`) && !d.startsWith(`${x}/`) && model.isEmptyDir(x));
      const over = r.int(3) === 0 ? pick(r, empty) : undefined;
      const to = over ?? fresh(parent, (n) => n !== d && !n.startsWith(`${d}/`));
      renameSync(at(d), at(to));
      if (over) model.remove(over);
      model.move(d, to);
      did = `rename dir ${d} ${to}`;
    } else {
      const name = fresh(pick(r, dirs())!);
      symlinkSync('x'.repeat(1 + r.int(40)), at(name));
      model.add(name, 'symlink');
      did = `symlink ${name}`;
    }

    for (const name of model.names.keys()) {
      const st = lstatSync(at(name), { bigint: true });
      const rec = (await ask(m.dir, { op: 'stat', ino: Number(st.ino) })) as InodeRecord;
      const seen = {
        mode: Number(st.mode),
        uid: Number(st.uid),
        gid: Number(st.gid),
        nlink: Number(st.nlink),
        size: Number(st.size),
        blocks: Number(st.blocks),
        atime: st.atimeNs,
        mtime: st.mtimeNs,
        ctime: st.ctimeNs,
      };
      const ns = (sec: number, nsec: number) => BigInt(sec) * 1_000_000_000n + BigInt(nsec);
      const truth = {
        mode: rec.mode,
        uid: rec.uid,
        gid: rec.gid,
        nlink: rec.nlink,
        size: rec.size,
        blocks: rec.onlineBlocks * 8,
        atime: ns(rec.atimeSec, rec.atimeNsec),
        mtime: ns(rec.mtimeSec, rec.mtimeNsec),
        ctime: ns(rec.ctimeSec, rec.ctimeNsec),
      };
      assert.equal(seen, truth, `step ${step} (${did}): ${name}`);
      compared++;
    }
    for (const name of model.gone) {
      if (model.names.has(name)) continue;
      // ENOTDIR when a name on the way is now something other than a directory
      const parts = name.split('/');
      const blocked = parts
        .slice(0, -1)
        .some((_, k) => model.names.get(parts.slice(0, k + 1).join('/')) === 'file');
      assert.is(
        errnoOf(() => lstatSync(at(name))),
        blocked ? 'ENOTDIR' : 'ENOENT',
        `step ${step} (${did}): ${name} is gone`,
      );
    }
  }
  const after = (await ask(m.dir, { op: 'counters' })) as Record<string, number>;
  const hits = after.attr_cache_hits! - before.attr_cache_hits!;
  const enoent = after.attr_cache_enoent! - before.attr_cache_enoent!;
  assert.ok(compared > 2000, `compared ${compared} stats`);
  // names looked up before they are made, and names gone, in directories made through the
  // mount (complete in the cache)
  assert.ok(enoent > 50, `${enoent} lookups answered ENOENT by the cache`);
  // each lstat of a known name is a getattr; most must have come from the cache
  assert.ok(hits > compared / 2, `${hits} getattrs answered by the cache for ${compared} stats`);
});

test('a name used again after its directory moved away answers for the new inode, not the old', async () => {
  const m = mnt();
  const root = join(m.dir, 'attr-cache-again');
  mkdirSync(root);
  const p = (...xs: string[]) => join(root, ...xs);
  mkdirSync(p('d'));
  mkdirSync(p('d', 'sub'));
  writeFileSync(p('d', 'sub', 'x'), 'old');
  const old = lstatSync(p('d', 'sub', 'x'));
  lstatSync(p('d', 'sub', 'x')); // the second one is the cache's
  renameSync(p('d'), p('e'));
  mkdirSync(p('d'));
  mkdirSync(p('d', 'sub'));
  assert.is(
    errnoOf(() => lstatSync(p('d', 'sub', 'x'))),
    'ENOENT',
    'd/sub/x moved to e/sub/x',
  );
  writeFileSync(p('d', 'sub', 'x'), 'a new file, longer');
  const now = lstatSync(p('d', 'sub', 'x'));
  assert.is.not(now.ino, old.ino);
  assert.is(now.size, 18);
  assert.is(lstatSync(p('e', 'sub', 'x')).ino, old.ino);
  assert.is(lstatSync(p('e', 'sub', 'x')).size, 3);
  // a file name used again: unlinked, then created anew
  unlinkSync(p('e', 'sub', 'x'));
  assert.is(
    errnoOf(() => lstatSync(p('e', 'sub', 'x'))),
    'ENOENT',
  );
  writeFileSync(p('e', 'sub', 'x'), 'xy');
  assert.is(lstatSync(p('e', 'sub', 'x')).size, 2);
  // a directory renamed over an empty one: the subtree answers under the new name only
  mkdirSync(p('empty'));
  lstatSync(p('empty'));
  renameSync(p('e'), p('empty'));
  assert.is(lstatSync(p('empty', 'sub', 'x')).size, 2);
  assert.is(
    errnoOf(() => lstatSync(p('e'))),
    'ENOENT',
  );
  const hits = ((await ask(m.dir, { op: 'counters' })) as Record<string, number>).attr_cache_hits!;
  assert.ok(hits > 0, 'the cache answered');
});

test.run();
