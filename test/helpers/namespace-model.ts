/*
 * A generator of random but valid filesystem histories, for property tests.
 *
 * It keeps a small model of a namespace (which inodes exist, their names, xattrs, extents) and
 * turns random choices into the events a correct filesystem would log for them: create, mkdir,
 * link, unlink, rename over or beside, chmod, chown, utimes, xattrs, writes, truncates and
 * deletes. Every choice comes from the seeded rng, so a failing seed replays exactly.
 */

import type { FsEvent } from '../../src/events/event.js';
import type { Rng } from './rng.js';

const DT_DIR = 4;
const DT_REG = 8;

interface Node {
  ino: number;
  dir: boolean;
  links: { dir: number; name: string; pos: number }[];
  xattrs: Set<string>;
  extents: { logical: number; physical: number; count: number }[];
  size: number;
}

export class NamespaceModel {
  private readonly nodes = new Map<number, Node>();
  private nextIno = 2;
  private nextPos = 1;
  private nextBlock = 1000;
  private clock = 1_700_000_000;

  constructor(private readonly r: Rng) {
    this.nodes.set(1, { ino: 1, dir: true, links: [], xattrs: new Set(), extents: [], size: 0 });
  }

  /** The events of one random operation (all of which must commit together). */
  step(): FsEvent[] {
    const time = { sec: this.clock++, nsec: this.r.int(1e9) };
    const files = [...this.nodes.values()].filter((n) => !n.dir);
    const dirs = [...this.nodes.values()].filter((n) => n.dir);
    const pick = <T>(xs: T[]) => xs[this.r.int(xs.length)]!;
    const choice = this.r.int(12);
    if (choice <= 2 || files.length === 0) return this.create(pick(dirs).ino, choice === 0, time);
    const f = pick(files);
    switch (choice) {
      case 3:
        return this.link(f, pick(dirs).ino, time);
      case 4:
        return this.unlink(f, time);
      case 5:
        return this.rename(f, pick(dirs).ino, time);
      case 6:
        return [{ type: 'InodeModeChanged', ino: f.ino, mode: 0o100000 | this.r.int(0o7777), ctime: time }];
      case 7:
        return [
          {
            type: 'InodeOwnerChanged',
            ino: f.ino,
            uid: this.r.int(5),
            gid: this.r.int(5),
            mode: 0o100644,
            ctime: time,
          },
        ];
      case 8:
        return this.xattr(f, time);
      case 9:
        return this.write(f, time);
      case 10:
        return this.truncate(f, time);
      default:
        return [{ type: 'InodeTimesSet', ino: f.ino, atime: time, mtime: time, ctime: time }];
    }
  }

  private create(dir: number, mkdir: boolean, time: { sec: number; nsec: number }): FsEvent[] {
    const ino = this.nextIno++;
    const name = `n${ino}`;
    const pos = this.nextPos++;
    this.nodes.set(ino, {
      ino,
      dir: mkdir,
      links: [{ dir, name, pos }],
      xattrs: new Set(),
      extents: [],
      size: 0,
    });
    return [
      { type: 'InodeCreated', ino, mode: mkdir ? 0o040755 : 0o100644, uid: 0, gid: 0, rdev: 0, time },
      { type: 'DirentAdded', dir, name: Buffer.from(name), ino, dtype: mkdir ? DT_DIR : DT_REG, pos, time },
    ];
  }

  private link(f: Node, dir: number, time: { sec: number; nsec: number }): FsEvent[] {
    const name = `l${this.nextPos}`;
    const pos = this.nextPos++;
    f.links.push({ dir, name, pos });
    return [{ type: 'DirentAdded', dir, name: Buffer.from(name), ino: f.ino, dtype: DT_REG, pos, time }];
  }

  private unlink(f: Node, time: { sec: number; nsec: number }): FsEvent[] {
    const l = f.links.splice(this.r.int(f.links.length), 1)[0]!;
    const events: FsEvent[] = [
      {
        type: 'DirentRemoved',
        dir: l.dir,
        name: Buffer.from(l.name),
        ino: f.ino,
        dtype: DT_REG,
        pos: l.pos,
        time,
      },
    ];
    if (f.links.length > 0) return events;
    if (this.r.next() < 0.3) events.push({ type: 'OrphanAdded', ino: f.ino });
    for (const x of f.extents) events.push({ type: 'ExtentUnmapped', ino: f.ino, ...x });
    events.push({ type: 'InodeDeleted', ino: f.ino, xattrs: f.xattrs.size });
    this.nodes.delete(f.ino);
    return events;
  }

  private rename(f: Node, dir: number, time: { sec: number; nsec: number }): FsEvent[] {
    const l = f.links[this.r.int(f.links.length)]!;
    const pos = this.nextPos++;
    const name = `r${pos}`;
    const events: FsEvent[] = [
      {
        type: 'DirentRemoved',
        dir: l.dir,
        name: Buffer.from(l.name),
        ino: f.ino,
        dtype: DT_REG,
        pos: l.pos,
        time,
      },
      { type: 'DirentAdded', dir, name: Buffer.from(name), ino: f.ino, dtype: DT_REG, pos, time },
    ];
    Object.assign(l, { dir, name, pos });
    return events;
  }

  private xattr(f: Node, time: { sec: number; nsec: number }): FsEvent[] {
    const name = `user.x${this.r.int(4)}`;
    if (f.xattrs.has(name) && this.r.next() < 0.5) {
      f.xattrs.delete(name);
      return [{ type: 'XattrRemoved', ino: f.ino, name: Buffer.from(name), ctime: time }];
    }
    f.xattrs.add(name);
    return [
      {
        type: 'XattrSet',
        ino: f.ino,
        name: Buffer.from(name),
        value: Buffer.alloc(this.r.int(50), 7),
        ctime: time,
      },
    ];
  }

  private write(f: Node, time: { sec: number; nsec: number }): FsEvent[] {
    const logical = f.extents.reduce((n, x) => Math.max(n, x.logical + x.count), 0);
    const count = 1 + this.r.int(8);
    const x = { logical, physical: this.nextBlock, count };
    this.nextBlock += count;
    f.extents.push(x);
    f.size = (logical + count) * 4096;
    return [
      { type: 'ExtentMapped', ino: f.ino, ...x },
      { type: 'DataWritten', ino: f.ino, offset: logical * 4096, length: count * 4096, size: f.size, time },
    ];
  }

  private truncate(f: Node, time: { sec: number; nsec: number }): FsEvent[] {
    const events: FsEvent[] = f.extents.map((x) => ({ type: 'ExtentUnmapped', ino: f.ino, ...x }));
    f.extents = [];
    f.size = this.r.int(3) * 1000;
    events.push({ type: 'FileTruncated', ino: f.ino, size: f.size, time });
    return events;
  }
}
