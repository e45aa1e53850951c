/*
 * scoutfs umount DIR: ask the mount serving DIR to commit, checkpoint and unmount, and wait
 * for its process to exit. A mount whose process is gone is detached with fusermount -uz.
 */

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Command } from 'commander';
import { findMount, request } from '../src/control/control-client.js';
import { isAlive } from '../src/control/registry.js';
import { FsError } from '../src/errors.js';
import { run } from './run.js';

const WAIT_MS = 60_000;

export function umountCommand(): Command {
  return new Command('umount')
    .description('unmount a scoutfs mount cleanly')
    .argument('<dir>', 'the mount point')
    .action(
      run('umount', async (dir: string) => {
        const m = await findMount(dir).catch(async (err) => {
          await promisify(execFile)('fusermount', ['-uz', dir]).catch(() => {
            throw err;
          });
          return null;
        });
        if (!m) return;
        await request(m, { op: 'unmount' });
        const deadline = Date.now() + WAIT_MS;
        while (isAlive(m.pid)) {
          if (Date.now() > deadline)
            throw new FsError('EBUSY', `mount process ${m.pid} did not exit in ${WAIT_MS} ms`);
          await new Promise((r) => setTimeout(r, 50));
        }
      }),
    );
}
