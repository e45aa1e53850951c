/*
 * The volume claim (src/control/volume-claim.ts): one holder per fsid, a second claimant told
 * who holds it, and a claim that needs no cleanup when its holder dies.
 */

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { claimHolder, claimVolume } from '../../src/control/volume-claim.js';
import { FsError } from '../../src/errors.js';

const me = (mountpoint: string) => ({ pid: process.pid, device: '/dev/test', slot: 0, mountpoint });

async function refused(p: Promise<unknown>): Promise<FsError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof FsError) return err;
    throw err;
  }
  throw new Error('the second claim was not refused');
}

test('claim - one holder per fsid; the second is told who holds it; released means free', async () => {
  const fsid = randomBytes(8);
  const a = await claimVolume(fsid, me('/mnt/a'));
  const err = await refused(claimVolume(fsid, me('/mnt/b')));
  assert.is(err.code, 'EBUSY');
  assert.match(
    err.message,
    new RegExp(`volume ${fsid.toString('hex')} is already mounted by /dev/test slot 0 at /mnt/a`),
  );
  assert.equal(await claimHolder(fsid), me('/mnt/a'));
  const other = await claimVolume(randomBytes(8), me('/mnt/c'));
  await a.release();
  assert.is(await claimHolder(fsid), null);
  const again = await claimVolume(fsid, me('/mnt/b'));
  await again.release();
  await other.release();
});

test('claim - released at once even while a claimant keeps its connection open', async () => {
  const fsid = randomBytes(8);
  const a = await claimVolume(fsid, me('/mnt/a'));
  const idle = connect(`\0scoutfs-volume-${fsid.toString('hex')}`);
  idle.on('error', () => {});
  await once(idle, 'connect');
  const t = Date.now();
  await Promise.race([
    a.release(),
    new Promise((_, reject) => setTimeout(() => reject(new Error('release waited')), 2000)),
  ]);
  assert.ok(Date.now() - t < 500, 'no wait for the open connection');
  const b = await claimVolume(fsid, me('/mnt/b'));
  await b.release();
  idle.destroy();
});

test('claim - freed by the kernel when its holder is killed', async () => {
  const fsid = randomBytes(8);
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '-e',
      `import(${JSON.stringify(fileURLToPath(new URL('../../src/control/volume-claim.ts', import.meta.url)))}).then(async (m) => {
        await m.claimVolume(Buffer.from('${fsid.toString('hex')}', 'hex'), { pid: process.pid, device: 'd', slot: 3, mountpoint: '/child' });
        console.log('claimed');
        setInterval(() => {}, 1000);
      })`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  try {
    await once(child.stdout!, 'data');
    const err = await refused(claimVolume(fsid, me('/mnt/x')));
    assert.match(err.message, /slot 3 at \/child/);
  } finally {
    child.kill('SIGKILL');
    await once(child, 'exit');
  }
  const mine = await claimVolume(fsid, me('/mnt/x'));
  await mine.release();
});

test.run();
