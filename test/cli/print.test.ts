import { closeSync, openSync, readSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { openFileDevice } from '../../src/device/file-device.js';
import { FORMAT_HASH_HEX } from '../../src/format/format-hash.js';
import { BLOCK_SIZE } from '../../src/format/layout.js';
import { encodeSuperblock, readSuperblockCopies } from '../../src/volume/superblock.js';
import { appendTransactions } from '../helpers/append-events.js';
import { assertRefused, buildCli, type CliResult, scoutfs } from '../helpers/cli.js';
import { MiB, sampleEvent, scratchDir } from '../helpers/volume.js';

const OTHER_HASH = 'deadbeef01234567';

const scratch = scratchDir('scoutfs-cli-print-');
let n = 0;
const devPath = () => join(scratch.dir, `dev${n++}.img`);

async function newFs(...args: string[]): Promise<{ path: string; fsid: string }> {
  const path = devPath();
  const r = await scoutfs('mkfs', '-Q', '1', '--size', '128M', ...args, path);
  assert.is(r.code, 0, r.stderr);
  return { path, fsid: /fsid:\s+([0-9a-f]{16})/.exec(r.stdout)![1]! };
}

/** Flip one byte of the device file. */
function flipByte(path: string, offset: number): void {
  const fd = openSync(path, 'r+');
  try {
    const b = Buffer.alloc(1);
    readSync(fd, b, 0, 1, offset);
    b[0]! ^= 0xff;
    writeSync(fd, b, 0, 1, offset);
  } finally {
    closeSync(fd);
  }
}

/** Rewrite both superblock copies with another format hash and a correct crc. */
async function setFormatHash(path: string, hashHex: string): Promise<void> {
  const dev = await openFileDevice(path);
  try {
    for (const c of await readSuperblockCopies(dev)) {
      assert.ok(c.superblock, `copy ${c.which}: ${c.problem}`);
      const sb = { ...c.superblock, formatHash: Buffer.from(hashHex, 'hex') };
      await dev.write(c.blkno * BLOCK_SIZE, encodeSuperblock(sb, c.blkno));
    }
    await dev.sync();
    // only the hash differs: both copies still pass every block check
    for (const c of await readSuperblockCopies(dev)) {
      assert.is(c.problem, null);
      assert.is(c.superblock?.formatHash.toString('hex'), hashHex);
    }
  } finally {
    await dev.close();
  }
}

function assertPrinted(r: CliResult): void {
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stderr, '');
}

test.before(buildCli);
test.after(() => scratch.remove());

test('print - shows both superblock copies, the fsid, the format hash and every log slot', async () => {
  const { path, fsid } = await newFs('--log-slots', '4');
  const r = await scoutfs('print', path);
  assertPrinted(r);
  assert.match(r.stdout, new RegExp(`^superblock of ${path}:\\n`));
  assert.match(r.stdout, /\n {2}copy A \(block 1\): generation 1\n/);
  assert.match(r.stdout, /\n {2}copy B \(block 2\): generation 1\n/);
  assert.match(r.stdout, new RegExp(`fsid:\\s+${fsid}\\n`));
  assert.match(r.stdout, new RegExp(`format hash:\\s+${FORMAT_HASH_HEX}\\n`));
  assert.match(r.stdout, /total blocks:\s+32768 \(134217728 bytes\)\n/);
  assert.match(r.stdout, /root inode:\s+1\n/);
  const slots = r.stdout.split('\n').filter((l) => /^ {2}slot \d+:/.test(l));
  assert.is(slots.length, 4);
  assert.match(slots[0]!, /^ {2}slot 0: .*; 1 records, seqs 1\.\.1, .*; clean end$/);
  for (const s of slots.slice(1)) assert.match(s, /; 0 records, empty, .*; clean end$/);
});

test('print - counts the records each slot holds', async () => {
  const { path } = await newFs('--log-slots', '3');
  await appendTransactions(path, 2, [[sampleEvent(0)], [sampleEvent(1), sampleEvent(2)], [sampleEvent(3)]]);
  await appendTransactions(path, 1, [[sampleEvent(4)]]);
  const r = await scoutfs('print', path);
  assertPrinted(r);
  const slots = r.stdout.split('\n').filter((l) => /^ {2}slot \d+:/.test(l));
  assert.match(slots[0]!, /slot 0: .*; 1 records, seqs 1\.\.1, next lsn 2 /);
  assert.match(slots[1]!, /slot 1: .*; 1 records, seqs 5\.\.5, next lsn 2 /);
  assert.match(slots[2]!, /slot 2: .*; 3 records, seqs 2\.\.4, next lsn 4 /);
});

test('print - refuses a small file that is not a filesystem', async () => {
  const path = devPath();
  writeFileSync(path, 'myhost\n');
  assertRefused(await scoutfs('print', path), 1, /not a scoutfs filesystem/);
});

test('print - refuses a zeroed 64 MiB file', async () => {
  const path = devPath();
  writeFileSync(path, '');
  truncateSync(path, 64 * MiB);
  assertRefused(await scoutfs('print', path), 1, /not a scoutfs filesystem/);
});

test('print - a missing device is ENOENT', async () => {
  const path = join(scratch.dir, 'no-such-device');
  assertRefused(await scoutfs('print', path), 1, /ENOENT: device .*no-such-device does not exist/);
});

test('print - a missing argument is a usage error', async () => {
  assertRefused(await scoutfs('print'), 2, /missing required argument 'device'/);
});

test('print - uses copy B when copy A fails its crc, and names the damage', async () => {
  const { path, fsid } = await newFs();
  flipByte(path, 1 * BLOCK_SIZE + 100);
  const r = await scoutfs('print', path);
  assertPrinted(r);
  assert.match(r.stdout, /copy A \(block 1\): bad crc32c \(stored 0x[0-9a-f]{8}, computed 0x[0-9a-f]{8}\)\n/);
  assert.match(r.stdout, /copy B \(block 2\): generation 1\n/);
  assert.match(r.stdout, new RegExp(`fsid:\\s+${fsid}\\n`));
  const e = await scoutfs('events', path);
  assert.is(e.code, 0, e.stderr);
  assert.match(e.stdout, /^seq 1 slot 0 InodeCreated ino=1 /);
});

test('print - uses copy A when copy B fails its crc', async () => {
  const { path, fsid } = await newFs();
  flipByte(path, 2 * BLOCK_SIZE + 4000);
  const r = await scoutfs('print', path);
  assertPrinted(r);
  assert.match(r.stdout, /copy A \(block 1\): generation 1\n/);
  assert.match(r.stdout, /copy B \(block 2\): bad crc32c/);
  assert.match(r.stdout, new RegExp(`fsid:\\s+${fsid}\\n`));
});

test('print - refuses a device whose superblock copies both fail their crc', async () => {
  const { path } = await newFs();
  flipByte(path, 1 * BLOCK_SIZE + 100);
  flipByte(path, 2 * BLOCK_SIZE + 100);
  const r = await scoutfs('print', path);
  assertRefused(r, 1, /no usable superblock/);
  assert.match(r.stderr, /superblock A \(block 1\): bad crc32c/);
  assert.match(r.stderr, /superblock B \(block 2\): bad crc32c/);
  assert.is(r.stdout, '');
  assertRefused(await scoutfs('events', path), 1, /crc/);
  // still recognisably a scoutfs filesystem: mkfs does not take it without -f
  assertRefused(await scoutfs('mkfs', '-Q', '1', path), 1, /already holds a scoutfs filesystem/);
});

test('print - refuses a device made with another format hash, naming both hashes', async () => {
  const { path } = await newFs();
  await setFormatHash(path, OTHER_HASH);
  const r = await scoutfs('print', path);
  assertRefused(r, 1, /format hash mismatch/);
  assert.match(r.stderr, new RegExp(`the device has ${OTHER_HASH}`));
  assert.match(r.stderr, new RegExp(`this scoutfs has ${FORMAT_HASH_HEX}`));
  assert.is(r.stdout, '');
  const e = await scoutfs('events', path);
  assertRefused(e, 1, new RegExp(`${OTHER_HASH}.*${FORMAT_HASH_HEX}`));
  // and once the hash is ours again, the filesystem is whole
  await setFormatHash(path, FORMAT_HASH_HEX);
  assertPrinted(await scoutfs('print', path));
});

test('print - refuses a device smaller than its superblock says', async () => {
  const { path } = await newFs();
  truncateSync(path, 100 * MiB);
  const r = await scoutfs('print', path);
  assertRefused(r, 1, /superblock says 134217728 bytes but the device has 104857600/);
});

test.run();
