/*
 * scoutfs walk-inodes: the entries of a change index between two seqs.
 *
 * Prints a "#  major  minor  ino" header and one row per entry, in index order, as scoutfs
 * does; --json prints one object per entry instead. Against a device (--device) it reads the
 * committed logs without mounting; against a mount path it asks the mount.
 */

import { Command, InvalidArgumentError } from 'commander';
import { findMount, request } from '../src/control/control-client.js';
import { UsageError } from '../src/errors.js';
import { Store } from '../src/node/store.js';
import { indexEntryOf, SEQ_INDEXES, type SeqIndexName, seqIndexRange } from '../src/projections/seq-index.js';
import { openVolume } from '../src/volume/volume.js';
import { parseUint } from './args.js';
import { run } from './run.js';

interface WalkFlags {
  device?: string;
  json?: boolean;
}

export function walkInodesCommand(): Command {
  return new Command('walk-inodes')
    .description('list inodes whose meta_seq or data_seq lies between two seqs')
    .argument('<index>', 'meta_seq or data_seq', parseIndex)
    .argument('<first>', 'first seq', parseUint)
    .argument('<last>', 'last seq (-1: the largest)', parseUint)
    .argument('[path]', 'a path in a mounted scoutfs filesystem')
    .option('--device <device>', 'read an unmounted device instead of a mount')
    .option('--json', 'one JSON object per entry')
    .action(
      run(
        'walk-inodes',
        async (index: SeqIndexName, first: number, last: number, path: string | undefined, f: WalkFlags) => {
          if (!f.device && !path) throw new UsageError('give a mount path or --device DEVICE');
          if (first > last) throw new UsageError(`first seq ${first} is after last seq ${last}`);
          if (!f.device) {
            const rows: string[] = f.json ? [] : ['#  major  minor  ino'];
            await request(await findMount(path!), { op: 'walk', index, first, last }, (entries) => {
              for (const e of entries)
                rows.push(f.json ? JSON.stringify({ index, ...e }) : `${e.major}  ${e.minor}  ${e.ino}`);
            });
            process.stdout.write(rows.length ? `${rows.join('\n')}\n` : '');
            return;
          }
          const vol = await openVolume(f.device, { readOnly: true });
          try {
            const store = await Store.open(vol);
            const out: string[] = f.json ? [] : ['#  major  minor  ino'];
            for await (const [key] of store.lsm.scan(seqIndexRange(index, first, last))) {
              const e = indexEntryOf(key);
              out.push(f.json ? JSON.stringify({ index, ...e }) : `${e.major}  ${e.minor}  ${e.ino}`);
            }
            process.stdout.write(out.length ? `${out.join('\n')}\n` : '');
          } finally {
            await vol.dev.close();
          }
        },
      ),
    );
}

function parseIndex(value: string): SeqIndexName {
  if (!SEQ_INDEXES.includes(value as SeqIndexName)) {
    throw new InvalidArgumentError(`"${value}" is not an index (meta_seq or data_seq)`);
  }
  return value as SeqIndexName;
}
