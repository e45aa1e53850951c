/*
 * scoutfs replay: rebuild the items from the logs, to look back in time or to verify the index.
 *
 *   replay DEVICE                 fold every retained transaction and summarise
 *   replay DEVICE --until SEQ     the namespace (paths and inode attributes) as it was at SEQ
 *   replay DEVICE --verify        check the on-device index: its runs, its invariants, and,
 *                                 when the logs still hold all history, item for item against
 *                                 a full replay; prints the first differences, exits 1 on any
 */

import { Command } from 'commander';
import { FsError, UsageError } from '../src/errors.js';
import { readSlotHeader } from '../src/events/slot-header.js';
import { ALL_KEYS } from '../src/lsm/lsm.js';
import { replayVolume } from '../src/node/replay.js';
import { Store } from '../src/node/store.js';
import { checkIndex, compareItems } from '../src/node/verify.js';
import { walkNamespace } from '../src/projections/namespace.js';
import { openVolume, type Volume } from '../src/volume/volume.js';
import { parseUint } from './args.js';
import { run } from './run.js';

interface ReplayFlags {
  until?: number;
  verify?: boolean;
  json?: boolean;
}

export function replayCommand(): Command {
  return new Command('replay')
    .description('rebuild items from the logs: show the namespace at a seq, or verify the index')
    .argument('<device>', 'block device or file holding the filesystem')
    .option('--until <seq>', 'show the namespace as it was after this seq', parseUint)
    .option('--verify', 'compare the index with the logs and check its invariants')
    .option('--json', 'one JSON object per line (with --until)')
    .action(
      run('replay', async (device: string, f: ReplayFlags) => {
        if (f.until !== undefined && f.verify) throw new UsageError('--until and --verify are separate runs');
        const vol = await openVolume(device, { readOnly: true });
        try {
          if (f.verify) process.exitCode = await verify(vol);
          else await show(vol, f);
        } finally {
          await vol.dev.close();
        }
      }),
    );
}

/** The oldest seq every log still holds, or null when all history since mkfs is retained. */
async function trimmedBefore(vol: Volume): Promise<number | null> {
  let trimmed: number | null = null;
  for (let s = 0; s < vol.sb.logSlots; s++) {
    const h = await readSlotHeader(vol, s);
    if (h.tailLsn !== 1) trimmed = Math.max(trimmed ?? 0, h.tailSeq);
  }
  return trimmed;
}

async function show(vol: Volume, f: ReplayFlags): Promise<void> {
  const trimmed = await trimmedBefore(vol);
  if (trimmed !== null) {
    throw new FsError(
      'ERANGE',
      `history up to seq ${trimmed} is no longer retained in the logs; cannot replay from mkfs`,
    );
  }
  const r = await replayVolume(vol, f.until === undefined ? {} : { untilSeq: f.until });
  const out = (s: string) => process.stdout.write(`${s}\n`);
  if (f.until === undefined) {
    out(`replayed ${r.transactions} transactions, ${r.events} events, up to seq ${r.lastSeq}`);
    return;
  }
  if (!f.json) out(`# namespace at seq ${r.lastSeq}`);
  const reader = {
    get: (k: Buffer) => r.index.get(k),
    scan: (range: typeof ALL_KEYS) => r.index.scan(range),
  };
  for await (const { path, inode: i } of walkNamespace(reader, vol.sb.rootIno)) {
    if (f.json) out(JSON.stringify({ path, ...i }));
    else {
      const mode = `0${i.mode.toString(8)}`;
      out(
        `${path}  ino=${i.ino} mode=${mode} nlink=${i.nlink} uid=${i.uid} gid=${i.gid} size=${i.size} meta_seq=${i.metaSeq} data_seq=${i.dataSeq}`,
      );
    }
  }
}

async function verify(vol: Volume): Promise<number> {
  const out = (s: string) => process.stdout.write(`${s}\n`);
  const store = await Store.open(vol);
  const structure = await checkIndex(store);
  out(
    `index: ${store.lsm.manifest.runs.length} runs (${structure.runUnits} units checked), ${structure.inodes} inodes, ` +
      `checkpoint at seq ${store.lsm.manifest.lastSeq}, ${store.replayed.transactions} transactions after it`,
  );
  for (const p of structure.problems) out(`  problem: ${p}`);
  let bad = structure.problems.length > 0;
  const trimmed = await trimmedBefore(vol);
  if (trimmed !== null) {
    out(`replay: history up to seq ${trimmed} was trimmed from the logs; item-for-item comparison skipped`);
  } else {
    const r = await replayVolume(vol);
    const cmp = await compareItems(store.lsm.scan(ALL_KEYS), r.index.scan(ALL_KEYS));
    out(
      `replay: ${r.transactions} transactions, ${r.events} events; ${cmp.matched} items identical, ${cmp.total} differ`,
    );
    for (const d of cmp.differences)
      out(`  differs: ${d.key}\n    index:  ${d.index}\n    replay: ${d.replay}`);
    bad ||= cmp.total > 0;
  }
  out(bad ? 'verify: FAILED' : 'verify: clean');
  await store.close();
  return bad ? 1 : 0;
}
