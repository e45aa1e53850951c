import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FORMAT_HASH_HEX } from '../../src/format/format-hash.js';
import { assertRefused, buildCli, scoutfs } from '../helpers/cli.js';
import { MiB, scratchDir } from '../helpers/volume.js';

const scratch = scratchDir('scoutfs-cli-mkfs-');
let n = 0;
const devPath = () => join(scratch.dir, `dev${n++}.img`);

/** A zeroed file of `bytes`, with `patch` written at `at`. */
function zeroFile(bytes: number, at = 0, patch: Buffer = Buffer.alloc(0)): string {
  const path = devPath();
  const buf = Buffer.alloc(bytes);
  patch.copy(buf, at);
  writeFileSync(path, buf);
  return path;
}

async function mkfsOk(...args: string[]): Promise<string> {
  const r = await scoutfs('mkfs', ...args);
  assert.is(r.code, 0, `mkfs ${args.join(' ')}: ${r.stderr}`);
  return fsidOf(r.stdout);
}

function fsidOf(output: string): string {
  const m = /fsid:\s+([0-9a-f]{16})\n/.exec(output);
  assert.ok(m, `no fsid in: ${output}`);
  return m[1]!;
}

async function printedFsid(path: string): Promise<string> {
  const r = await scoutfs('print', path);
  assert.is(r.code, 0, r.stderr);
  return fsidOf(r.stdout);
}

test.before(buildCli);
test.after(() => scratch.remove());

test('mkfs - creates a file of --size and prints what it made', async () => {
  const path = devPath();
  const r = await scoutfs('mkfs', '-Q', '1', '--size', '256M', path);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stderr, '');
  assert.is(statSync(path).size, 256 * MiB);
  assert.match(r.stdout, /^Created scoutfs filesystem:\n/);
  assert.match(r.stdout, new RegExp(`device path:\\s+${path}\\n`));
  assert.match(r.stdout, /fsid:\s+[0-9a-f]{16}\n/);
  assert.match(r.stdout, new RegExp(`format hash:\\s+${FORMAT_HASH_HEX}\\n`));
  assert.match(r.stdout, /block size:\s+4096\n/);
  assert.match(r.stdout, /total size:\s+268435456 bytes \(256\.0 MiB\)\n/);
  assert.match(r.stdout, /quorum count:\s+1\n/);
  assert.match(r.stdout, /log slots:\s+8 x \d+\.\d MiB\n/);
  assert.match(r.stdout, /root inode:\s+1\n/);
  // what it says is what it wrote
  assert.is(await printedFsid(path), fsidOf(r.stdout));
});

test('mkfs - refuses an existing scoutfs filesystem and leaves it alone', async () => {
  const path = devPath();
  const fsid = await mkfsOk('-Q', '1', '--size', '128M', path);
  const r = await scoutfs('mkfs', '-Q', '1', path);
  assertRefused(r, 1, /already holds a scoutfs filesystem/);
  assert.match(r.stderr, new RegExp(`fsid ${fsid}`));
  assert.match(r.stderr, /-f/);
  assert.is(r.stdout, '');
  assert.is(await printedFsid(path), fsid);
});

test('mkfs - -f overwrites an existing filesystem with a new fsid', async () => {
  const path = devPath();
  const before = await mkfsOk('-Q', '1', '--size', '128M', path);
  const after = await mkfsOk('-Q', '1', '-f', path);
  assert.is.not(after, before);
  assert.is(await printedFsid(path), after);
  const long = await mkfsOk('-Q', '1', '--force', path);
  assert.is.not(long, after);
});

test('mkfs - refuses a device holding an ext4 filesystem', async () => {
  const path = zeroFile(64 * MiB, 1080, Buffer.from([0x53, 0xef]));
  const r = await scoutfs('mkfs', '-Q', '1', path);
  assertRefused(r, 1, /ext2\/3\/4/);
  const head = readFileSync(path).subarray(0, 2 * MiB);
  assert.equal([...head.subarray(1080, 1082)], [0x53, 0xef], 'the ext4 magic is untouched');
  assert.is(
    head.subarray(4096, 12288).some((b) => b !== 0),
    false,
    'no superblock was written',
  );
  await mkfsOk('-Q', '1', '-f', path);
});

test('mkfs - refuses a device holding other data', async () => {
  const junk = randomBytes(4096);
  junk[0] = 0xa5;
  const path = zeroFile(64 * MiB, 200_000, junk);
  const r = await scoutfs('mkfs', '-Q', '1', path);
  assertRefused(r, 1, /holds data \(a non-zero byte at offset 200000\)/);
  assert.ok(readFileSync(path).subarray(200_000, 204_096).equals(junk), 'the data is untouched');
  await mkfsOk('-Q', '1', '-f', path);
});

test('mkfs - refuses a --size below the minimum without creating the file', async () => {
  for (const size of ['1M', '63M', '65535K']) {
    const path = devPath();
    const r = await scoutfs('mkfs', '-Q', '1', '--size', size, path);
    assert.is.not(r.code, 0);
    assertRefused(r, r.code ?? -1, /the minimum is 67108864 \(64 MiB\)/);
    assert.is(existsSync(path), false, `--size ${size} created ${path}`);
  }
});

test('mkfs - a refusal after --size leaves no file behind and grows nothing', async () => {
  for (const args of [
    ['-Q', '3', '--log-slots', '2'],
    ['-Q', '1', '--log-size', '64K'],
  ]) {
    const path = devPath();
    const r = await scoutfs('mkfs', ...args, '--size', '128M', path);
    assertRefused(r, 1, /quorum count cannot exceed|too small/);
    assert.is(existsSync(path), false, `${args.join(' ')} left ${path}`);
  }
  const junk = Buffer.alloc(4096, 0xa5);
  const path = zeroFile(64 * MiB, 8192, junk);
  assertRefused(await scoutfs('mkfs', '-Q', '1', '--size', '128M', path), 1, /holds data/);
  assert.is(statSync(path).size, 64 * MiB, 'the file was grown before the refusal');
});

test('mkfs - a size the backing filesystem cannot hold is a plain error', async () => {
  const path = devPath();
  const r = await scoutfs('mkfs', '-Q', '1', '--size', '8000T', path);
  assertRefused(r, 1, /cannot size .* to \d+ bytes/);
  assert.is(existsSync(path), false);
});

test('mkfs - refuses an existing device smaller than the minimum', async () => {
  const path = zeroFile(MiB);
  const r = await scoutfs('mkfs', '-Q', '1', path);
  assertRefused(r, 1, /1048576 bytes; the minimum is 67108864/);
  assert.is(statSync(path).size, MiB);
});

test('mkfs - makes a filesystem of exactly the minimum size', async () => {
  const path = devPath();
  await mkfsOk('-Q', '1', '--size', '64M', path);
  assert.is(statSync(path).size, 64 * MiB);
});

test('mkfs - bad arguments are usage errors (exit 2) and touch nothing', async () => {
  const cases: [string[], RegExp][] = [
    [['-Q', '0'], /must be between 1 and 15/],
    [['-Q', '99'], /must be between 1 and 15/],
    [['-Q', '16'], /must be between 1 and 15/],
    [['-Q', 'abc'], /"abc" is not a non-negative integer/],
    [['-Q', '-1'], /must be between 1 and 15/],
    [['-Q', '1', '--size', '12Q'], /"12Q" is not a size/],
    [['-Q', '1', '--size', '1.5G'], /"1.5G" is not a size/],
    [['-Q', '1', '--log-slots', '0'], /must be between 1 and 64/],
    [['-Q', '1', '--log-slots', '65'], /must be between 1 and 64/],
    [['-Q', '1', '--log-size', 'big'], /"big" is not a size/],
    [['-Q', '1', '--bogus'], /unknown option '--bogus'/],
    [['--size', '128M'], /required option '-Q, --quorum-count <n>' not specified/],
  ];
  await Promise.all(
    cases.map(async ([args, message]) => {
      const path = devPath();
      const r = await scoutfs('mkfs', ...args, '--size', '128M', path);
      assertRefused(r, 2, message);
      assert.is(existsSync(path), false, `mkfs ${args.join(' ')} created ${path}`);
    }),
  );
  assertRefused(await scoutfs('mkfs', '-Q', '1'), 2, /missing required argument 'device'/);
  assertRefused(await scoutfs('mkfs', '-Q', '1', devPath(), 'extra'), 2, /too many arguments/);
});

test('mkfs - a missing device without --size is ENOENT', async () => {
  const path = devPath();
  assertRefused(await scoutfs('mkfs', '-Q', '1', path), 1, /ENOENT: device .* does not exist/);
  assert.is(existsSync(path), false);
});

test('mkfs - --size refuses to shrink a larger file', async () => {
  const path = devPath();
  const fsid = await mkfsOk('-Q', '1', '--size', '256M', path);
  const r = await scoutfs('mkfs', '-Q', '1', '-f', '--size', '128M', path);
  assert.is.not(r.code, 0);
  assertRefused(r, r.code ?? -1, /larger than --size 134217728; refusing to shrink it/);
  assert.is(statSync(path).size, 256 * MiB);
  assert.is(await printedFsid(path), fsid, 'the filesystem is untouched');
});

test('mkfs - --size grows a smaller zeroed file', async () => {
  const path = zeroFile(64 * MiB);
  await mkfsOk('-Q', '1', '--size', '128M', path);
  assert.is(statSync(path).size, 128 * MiB);
  const r = await scoutfs('print', path);
  assert.match(r.stdout, /total blocks:\s+32768 \(134217728 bytes\)/);
});

test('mkfs - --log-slots and --log-size are honoured', async () => {
  const path = devPath();
  const r = await scoutfs('mkfs', '-Q', '2', '--log-slots', '3', '--log-size', '8M', '--size', '256M', path);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /log slots:\s+3 x 8\.0 MiB\n/);
  assert.match(r.stdout, /quorum count:\s+2\n/);
  const p = await scoutfs('print', path);
  assert.is(p.code, 0, p.stderr);
  assert.match(p.stdout, /log slots:\s+3 of 2048 blocks from block \d+/);
  assert.match(p.stdout, /quorum count:\s+2 /);
  const slots = p.stdout.split('\n').filter((l) => /^\s+slot \d+:/.test(l));
  assert.equal(
    slots.map((l) => /slot (\d+): blocks (\d+)\.\.(\d+)/.exec(l)!.slice(1).map(Number)),
    [
      [0, 18, 18 + 2047],
      [1, 18 + 2048, 18 + 2 * 2048 - 1],
      [2, 18 + 2 * 2048, 18 + 3 * 2048 - 1],
    ],
  );
});

test('mkfs - --log-size too small, or too large for the device, is refused', async () => {
  assertRefused(
    await scoutfs('mkfs', '-Q', '1', '--log-size', '64K', '--size', '128M', devPath()),
    1,
    /log of 16 blocks per slot is too small/,
  );
  assertRefused(
    await scoutfs('mkfs', '-Q', '1', '--log-size', '32M', '--size', '128M', devPath()),
    1,
    /too few/,
  );
});

test('mkfs - a quorum count above the number of log slots is refused', async () => {
  assertRefused(
    await scoutfs('mkfs', '-Q', '3', '--log-slots', '2', '--size', '128M', devPath()),
    1,
    /quorum count cannot exceed the number of log slots/,
  );
});

test.run();
