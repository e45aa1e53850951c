/*
 * scoutfs statfs DIR: the volume's fields as the mount sees them, committed seq included.
 */

import { Command } from 'commander';
import { ask } from './mount-query.js';
import { run } from './run.js';

export function statfsCommand(): Command {
  return new Command('statfs')
    .description('show volume-wide attributes, including the committed seq')
    .argument('<dir>', 'a path in a mounted scoutfs filesystem')
    .option('--json', 'one JSON object')
    .action(
      run('statfs', async (dir: string, f: { json?: boolean }) => {
        const r = (await ask(dir, { op: 'statfs' })) as Record<string, unknown>;
        const names: Record<string, string> = {
          fsid: 'fsid',
          uuid: 'uuid',
          committedSeq: 'committed_seq',
          totalDataBlocks: 'total_data_blocks',
          freeDataBlocks: 'free_data_blocks',
          totalMetaBlocks: 'total_meta_blocks',
          freeMetaBlocks: 'free_meta_blocks',
          inodes: 'inodes',
          quorumCount: 'quorum_count',
          logSlots: 'log_slots',
          blockSize: 'block_size',
        };
        const lines = Object.entries(names).map(([k, n]) => `${n.padEnd(18)}${r[k]}`);
        process.stdout.write(f.json ? `${JSON.stringify(r)}\n` : `${lines.join('\n')}\n`);
      }),
    );
}
