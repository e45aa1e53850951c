/*
 * The workload of the mount crash test, one worker's share: a player with its own directory
 * under rN/play, and files it makes durable in rN/keep (see fs-workload-child.ts for the process
 * around it and what it reports).
 *
 * A player keeps a model of its directory (names, sizes, which directories had hidden files), so
 * every operation it tries is one that must succeed on a live mount: any failure is either the
 * mount dying or a bug. Play operations: create and write at random offsets, append, truncate,
 * rename (also over an existing file or another link of the same file), hard link, unlink,
 * mkdir, rmdir, rename of a directory, fsync, and "hide": open a file, unlink it while open,
 * write more and read it all back through the handle (libfuse renames it to a .fuse_hidden name;
 * the filesystem marks it an orphan). A few hidden files stay open per player; older ones are
 * closed, which deletes them.
 *
 * Keep files are written in pieces in random order, sometimes with holes and a truncate, then
 * made durable POSIX-style (fsync of the file, then of its directory) and never touched again.
 */

import { createHash, randomBytes } from 'node:crypto';
import { type FileHandle, link, mkdir, open, rename, rmdir, truncate, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { readFull, syncDir, writeAll } from './file-io.js';
import type { Rng } from './rng.js';

export interface WorkloadConfig {
  dir: string;
  round: number;
  workers: number;
  sweep: string[];
}

/** What a syscall on a mount whose serving process died fails with. */
export const GONE = new Set(['ENOTCONN', 'ECONNABORTED']);
const MAX_HIDDEN_PER_WORKER = 3;
const KiB = 1024;

export function roundName(round: number): string {
  return `r${String(round).padStart(2, '0')}`;
}

interface Dir {
  name: string;
  /** Name → inode; hard links share one. */
  files: Map<string, Inode>;
  /** A file was hidden here this round: its .fuse_hidden name may still be around. */
  hadHidden: boolean;
}

interface Inode {
  size: number;
}

interface Hidden {
  id: string;
  fh: FileHandle;
}

type Op =
  | 'keep'
  | 'write'
  | 'append'
  | 'rename'
  | 'link'
  | 'unlink'
  | 'mkdir'
  | 'rmdir'
  | 'renameDir'
  | 'truncate'
  | 'hide'
  | 'fsync';
const WEIGHTS: [Op, number][] = [
  ['keep', 22],
  ['write', 20],
  ['append', 6],
  ['rename', 8],
  ['link', 4],
  ['unlink', 7],
  ['mkdir', 5],
  ['rmdir', 3],
  ['renameDir', 3],
  ['truncate', 5],
  ['hide', 10],
  ['fsync', 6],
];

/**
 * The files hidden (unlinked while open) and still open, shared by all workers: a commit that
 * started while one was open made its orphan mark durable, so the next mount must reclaim it.
 */
export class Orphans {
  private readonly openNow = new Map<string, FileHandle>();
  private readonly reported = new Set<string>();
  /**
   * Every hidden file's handle, referenced until the process dies: a handle that is collected
   * is closed by node, and a close refused by the dead mount would end the process with an error.
   */
  private readonly neverCollected: FileHandle[] = [];

  constructor(private readonly say: (line: string) => void) {}

  hidden(id: string, fh: FileHandle): void {
    this.openNow.set(id, fh);
    this.neverCollected.push(fh);
  }

  closing(id: string): void {
    this.openNow.delete(id);
  }

  /** The ids open now; hand them to committed() once a commit started after this succeeded. */
  open(): string[] {
    return [...this.openNow.keys()];
  }

  committed(openBefore: string[]): void {
    const fresh = openBefore.filter((id) => !this.reported.has(id));
    for (const id of fresh) this.reported.add(id);
    if (fresh.length > 0) this.say(`durable ${fresh.join(',')}`);
  }
}

/** One worker: its own directory under rN/play, and its share of rN/keep. */
export class Player {
  private readonly dirs: Dir[] = [];
  private readonly hidden: Hidden[] = [];
  private n = 0;

  constructor(
    readonly cfg: WorkloadConfig,
    readonly w: number,
    readonly r: Rng,
    readonly orphans: Orphans,
    readonly say: (line: string) => void,
  ) {}

  private get base(): string {
    return join(this.cfg.dir, roundName(this.cfg.round));
  }

  private get root(): string {
    return join(this.base, 'play', `w${this.w}`);
  }

  /** Work until an operation fails; the failure is thrown with the operation's name. */
  async run(): Promise<never> {
    let op: Op = 'mkdir';
    try {
      await mkdir(this.root);
      await this.mkdir();
      for (;;) {
        op = pick(this.r);
        await this[op]();
      }
    } catch (err) {
      throw Object.assign(err as Error, { op });
    }
  }

  private path(d: Dir, file?: string): string {
    return file === undefined ? join(this.root, d.name) : join(this.root, d.name, file);
  }

  private anyDir(): Dir {
    return this.dirs[this.r.int(this.dirs.length)]!;
  }

  /** A random file, or null when there are none. */
  private anyFile(): { d: Dir; name: string } | null {
    const withFiles = this.dirs.filter((d) => d.files.size > 0);
    if (withFiles.length === 0) return null;
    const d = withFiles[this.r.int(withFiles.length)]!;
    const names = [...d.files.keys()];
    return { d, name: names[this.r.int(names.length)]! };
  }

  /** A file in rN/keep, durable POSIX-style, never touched again. */
  async keep(): Promise<void> {
    const rel = `${roundName(this.cfg.round)}/keep/w${this.w}-${this.n++}`;
    const path = join(this.cfg.dir, rel);
    let content = randomContent(this.r);
    const fh = await open(path, 'wx');
    try {
      // written in pieces, in random order; a zero piece is sometimes skipped, leaving a hole
      const cuts = [0, content.length];
      for (let i = this.r.int(4); i > 0; i--) cuts.push(this.r.int(content.length + 1));
      cuts.sort((a, b) => a - b);
      const pieces = cuts.slice(1).map((end, i) => [cuts[i]!, end] as const);
      let skipped = false;
      for (const i of shuffled(this.r, pieces.length)) {
        const [from, to] = pieces[i]!;
        const skip = to > from && this.r.int(5) === 0;
        skipped ||= skip;
        if (skip) content.fill(0, from, to);
        else await writeAll(fh, content.subarray(from, to), from);
      }
      // a hole at the end is no part of the file until the size says so
      if (skipped) await fh.truncate(content.length);
      if (this.r.int(5) === 0) {
        const size = this.r.int(content.length * 2 + 1);
        await fh.truncate(size);
        content =
          size <= content.length
            ? content.subarray(0, size)
            : Buffer.concat([content, Buffer.alloc(size - content.length)]);
      }
      await this.fsync(fh);
    } finally {
      await closeQuietly(fh);
    }
    await syncDir(join(this.base, 'keep'));
    this.say(`synced ${rel} ${content.length} ${createHash('sha256').update(content).digest('hex')}`);
  }

  async write(): Promise<void> {
    const f = this.r.int(3) === 0 ? this.anyFile() : null;
    const d = f?.d ?? this.anyDir();
    const name = f?.name ?? `f${this.n++}`;
    const fh = await open(this.path(d, name), f ? 'r+' : 'w');
    try {
      const inode = d.files.get(name) ?? { size: 0 };
      const offset = this.r.int(inode.size + 64 * KiB);
      const len = 1 + this.r.int(this.r.int(4) === 0 ? 512 * KiB : 16 * KiB);
      await writeAll(fh, randomBytes(len), offset);
      inode.size = Math.max(inode.size, offset + len);
      d.files.set(name, inode);
    } finally {
      await closeQuietly(fh);
    }
  }

  async append(): Promise<void> {
    const f = this.anyFile();
    if (!f) return;
    const len = 1 + this.r.int(32 * KiB);
    const fh = await open(this.path(f.d, f.name), 'a');
    try {
      await writeAll(fh, randomBytes(len), null);
      f.d.files.get(f.name)!.size += len;
    } finally {
      await closeQuietly(fh);
    }
  }

  async rename(): Promise<void> {
    const f = this.anyFile();
    if (!f) return;
    const over = this.r.int(3) === 0 ? this.anyFile() : null;
    const to = over ?? { d: this.anyDir(), name: `f${this.n++}` };
    if (to.d === f.d && to.name === f.name) return;
    await rename(this.path(f.d, f.name), this.path(to.d, to.name));
    const inode = f.d.files.get(f.name)!;
    // two links of one inode: rename(2) does nothing and both names stay
    if (to.d.files.get(to.name) === inode) return;
    to.d.files.set(to.name, inode);
    f.d.files.delete(f.name);
  }

  /** Another name for a file. */
  async link(): Promise<void> {
    const f = this.anyFile();
    if (!f) return;
    const to = { d: this.anyDir(), name: `f${this.n++}` };
    await link(this.path(f.d, f.name), this.path(to.d, to.name));
    to.d.files.set(to.name, f.d.files.get(f.name)!);
  }

  async unlink(): Promise<void> {
    const f = this.anyFile();
    if (!f) return;
    await unlink(this.path(f.d, f.name));
    f.d.files.delete(f.name);
  }

  async mkdir(): Promise<void> {
    const d: Dir = { name: `d${this.n++}`, files: new Map(), hadHidden: false };
    await mkdir(this.path(d));
    this.dirs.push(d);
  }

  async rmdir(): Promise<void> {
    // libfuse removes a closed hidden file's name after close(2) returns: not yet empty
    const empty = this.dirs.filter((d) => d.files.size === 0 && !d.hadHidden);
    if (empty.length === 0 || this.dirs.length < 2) return;
    const d = empty[this.r.int(empty.length)]!;
    await rmdir(this.path(d));
    this.dirs.splice(this.dirs.indexOf(d), 1);
  }

  async renameDir(): Promise<void> {
    const d = this.anyDir();
    const name = `d${this.n++}`;
    await rename(this.path(d), join(this.root, name));
    d.name = name;
  }

  async truncate(): Promise<void> {
    const f = this.anyFile();
    if (!f) return;
    const inode = f.d.files.get(f.name)!;
    const size = this.r.int(inode.size * 2 + 8 * KiB);
    await truncate(this.path(f.d, f.name), size);
    inode.size = size;
  }

  /** Open a file, unlink it while it is open, and keep using it. */
  async hide(): Promise<void> {
    const d = this.anyDir();
    const name = `h${this.n++}`;
    const id = `w${this.w}.${name}`;
    const first = randomBytes(this.r.int(128 * KiB));
    const fh = await open(this.path(d, name), 'w+');
    try {
      await writeAll(fh, first, 0);
      this.say(`hiding ${id}`);
      await unlink(this.path(d, name));
    } catch (err) {
      await closeQuietly(fh);
      throw err;
    }
    d.hadHidden = true;
    this.hidden.push({ id, fh });
    this.orphans.hidden(id, fh);
    this.say(`hidden ${id}`);
    const more = randomBytes(1 + this.r.int(64 * KiB));
    await writeAll(fh, more, first.length);
    const want = Buffer.concat([first, more]);
    const buf = Buffer.alloc(want.length);
    const back = buf.subarray(0, await readFull(fh, buf, 0));
    const differs = back.findIndex((b, k) => b !== want[k]);
    if (back.length !== want.length || differs >= 0) {
      const how = differs >= 0 ? `differing from byte ${differs} on` : 'the same as far as they go';
      throw Object.assign(new Error(`${id}: read back ${back.length} of ${want.length} bytes, ${how}`), {
        code: 'EDATA',
      });
    }
    if (this.hidden.length > MAX_HIDDEN_PER_WORKER) {
      const old = this.hidden.shift()!;
      this.orphans.closing(old.id);
      this.say(`closing ${old.id}`);
      await old.fh.close();
    }
  }

  /** fsync a play file (or the handle given), noting which orphan marks it made durable. */
  async fsync(given?: FileHandle): Promise<void> {
    const f = given ? null : this.anyFile();
    if (!given && !f) return;
    const fh = given ?? (await open(this.path(f!.d, f!.name), 'r+'));
    try {
      const before = this.orphans.open();
      await fh.sync();
      this.orphans.committed(before);
    } finally {
      if (!given) await closeQuietly(fh);
    }
  }
}

/** 0 to 100 bytes, a few KiB, up to 128 KiB, or up to 1 MiB. */
function randomContent(r: Rng): Buffer {
  const k = r.int(100);
  let size = 1 + r.int(1024 * KiB);
  if (k < 15) size = r.int(101);
  else if (k < 50) size = 1 + r.int(8 * KiB);
  else if (k < 85) size = 1 + r.int(128 * KiB);
  return randomBytes(size);
}

/** Close; a dead mount's refusal is no news (the next operation reports it). */
async function closeQuietly(fh: FileHandle): Promise<void> {
  await fh.close().catch((err: NodeJS.ErrnoException) => {
    if (!GONE.has(err.code ?? '')) throw err;
  });
}

function shuffled(r: Rng, n: number): number[] {
  const a = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = r.int(i + 1);
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

function pick(r: Rng): Op {
  let n = r.int(WEIGHTS.reduce((s, [, w]) => s + w, 0));
  for (const [op, w] of WEIGHTS) {
    if (n < w) return op;
    n -= w;
  }
  return 'write';
}
