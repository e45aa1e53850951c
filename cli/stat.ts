/*
 * scoutfs stat FILE: the scoutfs fields of an inode, one "name value" per line as scoutfs
 * prints them (meta_seq, data_seq, data_version, online and offline blocks, crtime), or --json.
 */

import { Command } from 'commander';
import type { InodeRecord } from '../src/format/item-schema.js';
import { ask, inoOf } from './mount-query.js';
import { run } from './run.js';

export function statCommand(): Command {
  return new Command('stat')
    .description('show the scoutfs attributes of a file')
    .argument('<file>', 'a file in a mounted scoutfs filesystem')
    .option('--json', 'one JSON object')
    .action(
      run('stat', async (file: string, f: { json?: boolean }) => {
        const r = (await ask(file, { op: 'stat', ino: await inoOf(file) })) as InodeRecord;
        const fields = {
          ino: r.ino,
          meta_seq: r.metaSeq,
          data_seq: r.dataSeq,
          data_version: r.dataVersion,
          online_blocks: r.onlineBlocks,
          offline_blocks: r.offlineBlocks,
          crtime: `${r.crtimeSec}.${String(r.crtimeNsec).padStart(9, '0')}`,
        };
        process.stdout.write(
          f.json
            ? `${JSON.stringify(fields)}\n`
            : `${Object.entries(fields)
                .map(([k, v]) => `${k.padEnd(16)}${v}`)
                .join('\n')}\n`,
        );
      }),
    );
}
