/*
 * scoutfs mkfs: make a filesystem on a shared device, or on a file it can create.
 */

import { promises as fsp } from 'node:fs';
import { Command } from 'commander';
import { FsError, systemCode, UsageError } from '../src/errors.js';
import { FORMAT_HASH_HEX } from '../src/format/format-hash.js';
import { BLOCK_SIZE, computeLayout, LIMITS, QUORUM_SLOTS } from '../src/format/layout.js';
import { type MkfsOptions, mkfs } from '../src/node/mkfs.js';
import { describeExistingContents } from '../src/volume/signatures.js';
import { openDevice } from '../src/volume/volume.js';
import { intIn, parseSize } from './args.js';
import { printFields } from './output.js';
import { run } from './run.js';

interface MkfsFlags {
  quorumCount: number;
  force?: boolean;
  size?: number;
  logSlots: number;
  logSize?: number;
  metaSize?: number;
}

export function mkfsCommand(): Command {
  return new Command('mkfs')
    .description('make a new scoutfs filesystem on a shared block device or a file')
    .argument('<device>', 'block device, or a file (created with --size)')
    .requiredOption('-Q, --quorum-count <n>', 'live nodes needed to form a quorum', intIn(1, QUORUM_SLOTS))
    .option('-f, --force', 'overwrite whatever the device holds')
    .option('--size <bytes>', 'create the file, or grow it, to this size (e.g. 2G)', parseSize)
    .option(
      '--log-slots <n>',
      'node slots, each with its own log (most nodes that can mount)',
      intIn(1, LIMITS.maxNodes),
      8,
    )
    .option('--log-size <bytes>', 'size of each node log (default scales with the device)', parseSize)
    .option('--meta-size <bytes>', 'size of the metadata index region (default a quarter)', parseSize)
    .action(
      run('mkfs', async (device: string, flags: MkfsFlags) => {
        const opts = {
          quorumCount: flags.quorumCount,
          logSlots: flags.logSlots,
          force: flags.force ?? false,
          ...(flags.logSize !== undefined && { logBlocksPerSlot: Math.floor(flags.logSize / BLOCK_SIZE) }),
          ...(flags.metaSize !== undefined && { metaBlocks: Math.floor(flags.metaSize / BLOCK_SIZE) }),
        };
        // refuse everything refusable before a file is created or grown
        if (flags.size !== undefined) await sizeFile(device, flags.size, opts);
        const dev = await openDevice(device);
        try {
          const sb = await mkfs(dev, opts);
          const mib = (blocks: number) => `${((blocks * BLOCK_SIZE) / 2 ** 20).toFixed(1)} MiB`;
          process.stdout.write('Created scoutfs filesystem:\n');
          printFields([
            ['device path', device],
            ['fsid', sb.fsid.toString('hex')],
            ['uuid', sb.uuid.toString('hex')],
            ['format hash', FORMAT_HASH_HEX],
            ['block size', String(sb.blockSize)],
            ['total size', `${sb.totalBlocks * BLOCK_SIZE} bytes (${mib(sb.totalBlocks)})`],
            ['quorum count', String(sb.quorumCount)],
            ['log slots', `${sb.logSlots} x ${mib(sb.logBlocksPerSlot)}`],
            ['metadata region', mib(sb.metaBlocks)],
            ['data region', mib(sb.dataBlocks)],
            ['root inode', String(sb.rootIno)],
          ]);
        } finally {
          await dev.close();
        }
      }),
    );
}

/**
 * Create a sparse file of `bytes`, or grow a smaller one; never shrink, never touch a device.
 * The layout and the file's current contents are checked first, so a refused mkfs leaves
 * nothing behind and changes nothing.
 */
async function sizeFile(path: string, bytes: number, opts: MkfsOptions): Promise<void> {
  try {
    computeLayout({ ...opts, totalBytes: bytes });
  } catch (err) {
    throw new FsError('EINVAL', `${path}: ${(err as Error).message}`);
  }
  const st = await fsp.stat(path).catch((err: unknown) => {
    if (systemCode(err) === 'ENOENT') return null;
    throw err;
  });
  if (st && !st.isFile()) throw new UsageError(`--size applies to files; ${path} is not a regular file`);
  if (st && st.size > bytes) {
    throw new UsageError(`${path} is ${st.size} bytes, larger than --size ${bytes}; refusing to shrink it`);
  }
  if (st && !opts.force) {
    const dev = await openDevice(path, { readOnly: true });
    const existing = await describeExistingContents(dev).finally(() => dev.close());
    if (existing) throw new FsError('EEXIST', `${path} already holds ${existing}; use -f to overwrite it`);
  }
  if (!st) {
    await fsp.writeFile(path, '', { flag: 'wx' }).catch((err: unknown) => {
      throw new FsError('EACCES', `cannot create ${path}: ${(err as Error).message}`);
    });
  }
  try {
    await fsp.truncate(path, bytes);
  } catch (err) {
    if (!st) await fsp.rm(path, { force: true });
    const code = systemCode(err) === 'EFBIG' ? 'EFBIG' : 'EIO';
    throw new FsError(code, `cannot size ${path} to ${bytes} bytes: ${(err as Error).message}`);
  }
}
