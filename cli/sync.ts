/*
 * scoutfs sync DIR: commit the mount's open transaction now and checkpoint (FUSE does not pass
 * sync(2) on); prints the committed seq.
 */

import { Command } from 'commander';
import { ask } from './mount-query.js';
import { run } from './run.js';

export function syncCommand(): Command {
  return new Command('sync')
    .description('commit everything pending in a mount')
    .argument('<dir>', 'a path in a mounted scoutfs filesystem')
    .action(
      run('sync', async (dir: string) => {
        const r = (await ask(dir, { op: 'sync' })) as { seq: number };
        process.stdout.write(`committed seq ${r.seq}\n`);
      }),
    );
}
