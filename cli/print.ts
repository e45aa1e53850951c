/*
 * scoutfs print: dump the superblock copies and the layout and state of every node log.
 */

import { Command } from 'commander';
import { LogCursor } from '../src/events/log-cursor.js';
import { readSlotHeader } from '../src/events/slot-header.js';
import { BLOCK_SIZE, slotStart } from '../src/format/layout.js';
import { readSuperblockCopies } from '../src/volume/superblock.js';
import { openVolume } from '../src/volume/volume.js';
import { printFields } from './output.js';
import { run } from './run.js';

export function printCommand(): Command {
  return new Command('print')
    .description('print the superblock, the device layout and every node log')
    .argument('<device>', 'block device or file holding the filesystem')
    .action(
      run('print', async (device: string) => {
        const vol = await openVolume(device, { readOnly: true });
        try {
          const { sb } = vol;
          const out = (s: string) => process.stdout.write(`${s}\n`);
          out(`superblock of ${device}:`);
          for (const c of await readSuperblockCopies(vol.dev)) {
            out(
              `  copy ${c.which} (block ${c.blkno}): ${c.superblock ? `generation ${c.superblock.generation}` : c.problem}`,
            );
          }
          printFields([
            ['fsid', sb.fsid.toString('hex')],
            ['uuid', sb.uuid.toString('hex')],
            ['format hash', sb.formatHash.toString('hex')],
            ['format version', String(sb.version)],
            ['generation', String(sb.generation)],
            ['created', new Date(sb.createdSec * 1000).toISOString()],
            ['block size', String(sb.blockSize)],
            ['total blocks', `${sb.totalBlocks} (${sb.totalBlocks * BLOCK_SIZE} bytes)`],
            [
              'quorum count',
              `${sb.quorumCount} (quorum blocks ${sb.quorumStart}..${sb.quorumStart + sb.quorumSlots - 1})`,
            ],
            ['log slots', `${sb.logSlots} of ${sb.logBlocksPerSlot} blocks from block ${sb.logStart}`],
            ['meta region', `blocks ${sb.metaStart}..${sb.metaStart + sb.metaBlocks - 1}`],
            ['data region', `blocks ${sb.dataStart}..${sb.dataStart + sb.dataBlocks - 1}`],
            ['root inode', String(sb.rootIno)],
            ['next inode', String(sb.nextIno)],
          ]);
          out('logs:');
          for (let slot = 0; slot < sb.logSlots; slot++) {
            const h = await readSlotHeader(vol, slot);
            const cursor = await LogCursor.atTail(vol, slot);
            let n = 0;
            let first = 0;
            for (let t = await cursor.next(); t; t = await cursor.next()) {
              if (n++ === 0) first = t.seq;
            }
            const p = cursor.position;
            const stop = cursor.stop;
            const seqs = n ? `seqs ${first}..${p.seq}` : 'empty';
            const end = stop?.kind === 'torn' ? `torn record at block ${p.block} (${stop.why})` : 'clean end';
            out(
              `  slot ${slot}: blocks ${slotStart(sb, slot)}..${slotStart(sb, slot) + sb.logBlocksPerSlot - 1}, ` +
                `header gen ${h.generation}, writer epoch ${h.epoch}, tail lsn ${h.tailLsn} at block ${h.tailBlock}; ` +
                `${n} records, ${seqs}, next lsn ${p.lsn} at block ${p.block}, ${p.usedBlocks} blocks used; ${end}`,
            );
          }
        } finally {
          await vol.dev.close();
        }
      }),
    );
}
