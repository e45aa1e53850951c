/*
 * scoutfs ino-path INO DIR: the paths that link an inode, found through its link backrefs.
 */

import { Command } from 'commander';
import { parseUint } from './args.js';
import { ask } from './mount-query.js';
import { run } from './run.js';

export function inoPathCommand(): Command {
  return new Command('ino-path')
    .description('print the paths of an inode number')
    .argument('<ino>', 'inode number', parseUint)
    .argument('<dir>', 'a path in a mounted scoutfs filesystem')
    .action(
      run('ino-path', async (ino: number, dir: string) => {
        const paths = (await ask(dir, { op: 'inoPath', ino })) as string[];
        process.stdout.write(paths.map((p) => `${p}\n`).join(''));
      }),
    );
}
