/*
 * scoutfs df DIR: metadata and data space, used and free, as scoutfs df prints it.
 */

import { Command } from 'commander';
import { ask } from './mount-query.js';
import { run } from './run.js';

export function dfCommand(): Command {
  return new Command('df')
    .description('show metadata and data space use')
    .argument('<dir>', 'a path in a mounted scoutfs filesystem')
    .action(
      run('df', async (dir: string) => {
        const r = (await ask(dir, { op: 'statfs' })) as Record<string, number>;
        const bs = r.blockSize ?? 4096;
        const row = (type: string, total: number, free: number) => {
          const used = total - free;
          const pct = total ? Math.round((used * 100) / total) : 0;
          return [type, String(bs), String(total), String(used), String(free), `${pct}%`];
        };
        const rows = [
          ['Type', 'Size', 'Total', 'Used', 'Free', 'Use%'],
          row('MetaData', r.totalMetaBlocks!, r.freeMetaBlocks!),
          row('Data', r.totalDataBlocks!, r.freeDataBlocks!),
        ];
        const widths = rows[0]!.map((_, i) => Math.max(...rows.map((x) => x[i]!.length)));
        process.stdout.write(
          `${rows.map((x) => x.map((c, i) => c.padStart(widths[i]!)).join('  ')).join('\n')}\n`,
        );
      }),
    );
}
