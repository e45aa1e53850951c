/*
 * Checks for tests that drive a real mount: what a volume must look like from outside.
 *
 *   assertReplayClean   `scoutfs replay DEV --verify` on an unmounted volume: exit 0, 'verify: clean'
 *   walkTree            every name under a mount point, with the inodes and blocks they hold
 *   assertSpaceAccounted statfs agrees with the tree: used blocks are exactly the blocks the
 *                       files hold and the inode count is exactly the inodes the names reach, so
 *                       a leaked orphan (an inode with no name left) shows up as a difference
 *   sha256File          a file's digest, streamed (files here can be larger than memory likes)
 *   mountLog            the serving process's log, to read what a (re)mount reported
 */

import { createHash } from 'node:crypto';
import { createReadStream, readdirSync, readFileSync, statSync } from 'node:fs';
import { lstat, readdir, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import * as assert from 'uvu/assert';
import { scoutfs } from './cli.js';

const HIDDEN = /^\.fuse_hidden/;

export interface Tree {
  /** Paths relative to the root, directories included. */
  paths: string[];
  /** libfuse's names for open-but-unlinked files. */
  hidden: string[];
  /** Distinct inodes reached, the root's included. */
  inodes: Set<number>;
  /** 4 KiB blocks held by the distinct regular files reached. */
  fileBlocks: number;
}

/** `scoutfs replay DEV --verify` on an unmounted device must say the index is clean. */
export async function assertReplayClean(device: string, what = device): Promise<void> {
  const r = await scoutfs('replay', device, '--verify');
  assert.is(r.code, 0, `replay --verify of ${what} failed:\n${r.stdout}${r.stderr}`);
  assert.match(r.stdout, /verify: clean/, `replay --verify of ${what}:\n${r.stdout}`);
}

export async function walkTree(root: string): Promise<Tree> {
  const tree: Tree = { paths: [], hidden: [], inodes: new Set([(await lstat(root)).ino]), fileBlocks: 0 };
  const visit = async (rel: string): Promise<void> => {
    for (const e of await readdir(join(root, rel), { withFileTypes: true })) {
      const path = rel ? `${rel}/${e.name}` : e.name;
      tree.paths.push(path);
      if (HIDDEN.test(e.name)) tree.hidden.push(path);
      const st = await lstat(join(root, path));
      const fresh = !tree.inodes.has(st.ino);
      tree.inodes.add(st.ino);
      if (st.isDirectory()) await visit(path);
      else if (st.isFile() && fresh) tree.fileBlocks += st.blocks / 8;
    }
  };
  await visit('');
  return tree;
}

/** statfs of the mount agrees with what its names reach; returns the tree it walked. */
export async function assertSpaceAccounted(root: string, what: string): Promise<Tree> {
  const tree = await walkTree(root);
  const s = await statfs(root);
  assert.ok(
    s.bfree <= s.blocks && s.bavail <= s.blocks,
    `${what}: statfs free within total (${s.bfree}/${s.blocks})`,
  );
  assert.is(
    s.blocks - s.bfree,
    tree.fileBlocks,
    `${what}: used data blocks (statfs ${s.blocks} - ${s.bfree}) equal the blocks of the files reachable by name`,
  );
  assert.is(s.files - s.ffree, tree.inodes.size, `${what}: inodes in use equal the inodes reachable by name`);
  return tree;
}

export function sha256File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(path, { highWaterMark: 1024 * 1024 })
      .on('data', (d) => h.update(d))
      .on('error', reject)
      .on('end', () => resolve(h.digest('hex')));
  });
}

export function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The log file the mount at `dir` writes (it is appended to by every mount of the device). */
export function mountLog(dir: string): {
  path: string;
  size: () => number;
  since: (offset: number) => string;
} {
  const runDir = process.env.SCOUTFS_RUN_DIR ?? '/run/scoutfs';
  for (const f of readdirSync(runDir).filter((n) => n.endsWith('.json'))) {
    const e = JSON.parse(readFileSync(join(runDir, f), 'utf8')) as { mountpoint: string; log: string };
    if (e.mountpoint === dir) {
      return {
        path: e.log,
        size: () => statSync(e.log).size,
        since: (offset) => readFileSync(e.log).subarray(offset).toString('utf8'),
      };
    }
  }
  throw new Error(`no registered mount at ${dir}`);
}
