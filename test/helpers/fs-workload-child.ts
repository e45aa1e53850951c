/*
 * The child process of the mount crash test (test/fuse/crash.test.ts): a mixed workload on a
 * mount, run until the mount dies under it.
 *
 *   node --import tsx test/helpers/fs-workload-child.ts, then one JSON line on stdin:
 *   {"dir": MOUNT, "round": N, "workers": W, "sweep": ["r03/play", ...]}
 *
 * It removes the `sweep` trees (what earlier rounds left to play with), makes rN/keep and
 * rN/play durable, says `ready`, and runs W players (fs-workload.ts) at once, plus a task that
 * asks the mount through its control socket to commit and checkpoint every few hundred ms, until
 * each one's next operation fails.
 *
 * It tells the parent on stdout, one line per fact, each after the fact:
 *
 *   ready                       setup is durable; the workload runs
 *   synced PATH SIZE SHA256     PATH (relative to the mount) is durable with this content
 *   hiding ID                   an open file is about to be unlinked
 *   hidden ID                   it was unlinked; it is still open
 *   closing ID                  that file is about to be closed (its inode goes away)
 *   durable ID,ID,...           these hidden files were hidden before an fsync that succeeded
 *                               started: their orphan marks are durable
 *   checkpointed SEQ            the mount committed and checkpointed through SEQ on request
 *   gone CODE                   a task found the mount dead (ENOTCONN, ECONNABORTED)
 *   unexpected OP CODE MESSAGE  a task's operation failed otherwise: a bug
 *   stopped                     every task has ended
 *
 * Hidden files stay open until the process is killed. Pipe writes of a line are single
 * write(2) calls under PIPE_BUF, so a line is never torn.
 */

import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { findMount, request } from '../../src/control/control-client.js';
import { firstLine } from './child-stdin.js';
import { syncDir } from './file-io.js';
import { GONE, Orphans, Player, roundName, type WorkloadConfig } from './fs-workload.js';
import { type Rng, rng } from './rng.js';

async function main(): Promise<void> {
  const cfg = JSON.parse(await firstLine()) as WorkloadConfig;
  const base = join(cfg.dir, roundName(cfg.round));
  try {
    for (const old of cfg.sweep) await rm(join(cfg.dir, old), { recursive: true, force: true });
    await mkdir(join(base, 'keep'), { recursive: true });
    await mkdir(join(base, 'play'));
    for (const d of [join(base, 'keep'), join(base, 'play'), base, cfg.dir]) await syncDir(d);
  } catch (err) {
    failed('setup', err);
    return;
  }
  say('ready');
  const seed = (Date.now() ^ (cfg.round << 20)) >>> 0;
  const orphans = new Orphans(say);
  await Promise.all([
    ...Array.from({ length: cfg.workers }, (_, w) =>
      new Player(cfg, w, rng(seed + w), orphans, say).run().catch((err: Error & { op?: string }) => {
        failed(err.op ?? 'play', err);
      }),
    ),
    checkpointer(cfg.dir, rng(seed - 1), orphans),
  ]);
  say('stopped');
  // hidden files stay open until the parent kills this process
  setInterval(() => {}, 1 << 30);
}

/**
 * Now and then ask the mount to commit and checkpoint (what `scoutfs sync` does), so some kills
 * land in the middle of a checkpoint. The control channel cannot say why it failed; the mount
 * point can: a dead mount answers ENOTCONN there.
 */
async function checkpointer(dir: string, r: Rng, orphans: Orphans): Promise<void> {
  try {
    const m = await findMount(dir);
    for (;;) {
      await sleep(50 + r.int(400));
      const before = orphans.open();
      const { seq } = (await request(m, { op: 'sync' })) as { seq: number };
      say(`checkpointed ${seq}`);
      orphans.committed(before);
    }
  } catch (err) {
    failed('checkpoint', (await deathOf(dir)) ?? err);
  }
}

/** The error a dead mount gives, or null if the mount still answers after a while. */
async function deathOf(dir: string): Promise<unknown> {
  for (let i = 0; i < 20; i++) {
    const err = await readdir(dir).then(
      () => null,
      (e: unknown) => e,
    );
    if (err) return err;
    await sleep(100);
  }
  return null;
}

function failed(op: string, err: unknown): void {
  const e = err as NodeJS.ErrnoException;
  const code = e.code ?? 'EUNKNOWN';
  if (GONE.has(code)) say(`gone ${code}`);
  else say(`unexpected ${op} ${code} ${(e.message ?? String(err)).replace(/\n/g, ' ')}`);
}

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

await main();
