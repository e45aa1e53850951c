/*
 * Crash test of the mount: SIGKILL of the serving process in the middle of a mixed workload,
 * round after round on one volume, and what must hold after each crash.
 *
 * Each round a child process (test/helpers/fs-workload-child.ts) runs several workers on the
 * mount: creates, writes, appends, truncates, renames, hard links, unlinks, mkdir and rmdir,
 * fsyncs, and files unlinked while open; one more task asks the mount to checkpoint every few
 * hundred ms, so some kills land inside a checkpoint. The workers also write files they make
 * durable (fsync of the file and of its directory) and report each with its sha256; those are
 * never touched again. At a random moment the test kills the mount with SIGKILL, waits until
 * the workers have seen it die (ENOTCONN), kills the child, aborts the dead FUSE connection and
 * remounts, which replays the log tail and reclaims orphans. Then:
 *
 *   - every file reported durable, in this round or any before, has its size, and this round's
 *     (every round's, every few rounds and at the end) their exact content;
 *   - the workers saw no error but the dead mount's;
 *   - no .fuse_hidden name is left anywhere, and statfs agrees with the tree: the blocks in use
 *     are the blocks the files hold and the inodes in use are the inodes names reach (a leaked
 *     orphan would show up in both);
 *   - the mount reclaimed at least the orphans whose marks an fsync made durable while they were
 *     still open, and no more than the files the workers hid;
 *   - every few rounds, `replay --verify` is clean on the crashed image before the remount, and
 *     after the last round, on the cleanly unmounted volume.
 *
 * A second test kills the mount right after truncates that cut fsync'd files inside a block:
 * each file must come back as it was fsync'd or as cut, nothing in between.
 *
 * Kill moments come from a printed seed (MOUNT_CRASH_SEED); the workload's own choices do not
 * repeat, only the schedule does.
 */

import { lstat, open, readFile, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CrashProcess, killAllChildren } from '../helpers/crash-process.js';
import { buildCliIfStale } from '../helpers/fresh-build.js';
import { roundName, type WorkloadConfig } from '../helpers/fs-workload.js';
import { forceUnmount, isMounted, type TestMount, withMount } from '../helpers/mount.js';
import { assertReplayClean, assertSpaceAccounted, mountLog, sha256File } from '../helpers/mount-checks.js';
import { rng } from '../helpers/rng.js';

const CHILD = join(import.meta.dirname, '..', 'helpers', 'fs-workload-child.ts');
const ROUNDS = Number(process.env.MOUNT_CRASH_ROUNDS ?? 20);
const WORKERS = 3;
/** Check every durable file's content, not only this round's, every this many rounds. */
const FULL_CHECK_EVERY = 6;
/** Run replay --verify on the crashed image every this many rounds. */
const CRASHED_VERIFY_EVERY = 6;
const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 5_000;
const SEED = Number(process.env.MOUNT_CRASH_SEED ?? Date.now() % 2 ** 31);

console.log(`mount crash seed ${SEED} (repeat the schedule with MOUNT_CRASH_SEED=${SEED})`);

interface Durable {
  size: number;
  sha: string;
  round: number;
}

interface Report {
  synced: [string, Durable][];
  hiding: Set<string>;
  durable: Set<string>;
  closing: Set<string>;
  checkpoints: number;
  unexpected: string[];
}

test.before(buildCliIfStale);
test.after(killAllChildren);

test("mount crash - fsync'd files survive SIGKILL of the mount; orphans are reclaimed; replay verifies", async () => {
  const started = Date.now();
  const r = rng(SEED);
  const durable = new Map<string, Durable>();
  const tally = { hidden: 0, durableOrphans: 0, reclaimed: 0, checkpoints: 0, crashedVerified: 0 };
  await withMount(
    async (m) => {
      let next = new CrashProcess(CHILD, undefined);
      try {
        for (let round = 0; round < ROUNDS; round++) {
          const at = `round ${round} (seed ${SEED})`;
          const child = next;
          next = new CrashProcess(CHILD, undefined);
          const cfg: WorkloadConfig = {
            dir: m.dir,
            round,
            workers: WORKERS,
            sweep: round >= 2 ? [`${roundName(round - 2)}/play`] : [],
          };
          child.send(JSON.stringify(cfg));
          const ready = await child.until(
            () => child.dead || child.lines().includes('ready'),
            READY_TIMEOUT_MS,
          );
          assert.ok(ready && !child.dead, `${at}: the workload did not start:\n${child.output()}`);

          await sleep(100 + r.int(1100));
          assert.not.ok(child.dead, `${at}: the workload died before the mount:\n${child.output()}`);
          const log = mountLog(m.dir);
          const pid = await killServer(m);
          await child.until(() => child.lines().includes('stopped'), STOP_TIMEOUT_MS);
          await child.kill();
          const rep = report(child.lines());
          assert.equal(rep.unexpected, [], `${at}: errors other than the dead mount's:\n${child.output()}`);

          const logFrom = log.size();
          await recover(m, pid, async () => {
            if (round % CRASHED_VERIFY_EVERY !== CRASHED_VERIFY_EVERY - 1) return;
            await assertReplayClean(m.device, `the image crashed in ${at}`);
            tally.crashedVerified += 1;
          });

          for (const [path, d] of rep.synced) durable.set(path, { ...d, round });
          const full = round % FULL_CHECK_EVERY === FULL_CHECK_EVERY - 1 || round === ROUNDS - 1;
          await assertDurable(m.dir, durable, full ? () => true : (d) => d.round === round, at);

          const tree = await assertSpaceAccounted(m.dir, at);
          assert.equal(tree.hidden, [], `${at}: no .fuse_hidden names after the remount`);
          const reclaimed = reclaimedIn(log.since(logFrom));
          const mustReclaim = [...rep.durable].filter((id) => !rep.closing.has(id));
          assert.ok(
            reclaimed >= mustReclaim.length,
            `${at}: reclaimed ${reclaimed} orphans; these were durably orphaned and still open: ${mustReclaim}`,
          );
          assert.ok(
            reclaimed <= rep.hiding.size,
            `${at}: reclaimed ${reclaimed} orphans, but only ${rep.hiding.size} files were unlinked while open`,
          );
          tally.hidden += rep.hiding.size;
          tally.checkpoints += rep.checkpoints;
          tally.durableOrphans += mustReclaim.length;
          tally.reclaimed += reclaimed;
        }
      } finally {
        await next.kill();
      }
      await m.unmount();
      await assertReplayClean(m.device, 'the volume after the last crash and a clean unmount');
    },
    { size: '2G' },
  );
  assert.ok(durable.size >= ROUNDS, `only ${durable.size} files were made durable in ${ROUNDS} rounds`);
  assert.ok(tally.reclaimed > 0, `no orphan was ever reclaimed (${tally.hidden} files hidden)`);
  console.log(
    `mount crash: ${ROUNDS} kills, ${durable.size} durable files intact, ${tally.hidden} files hidden, ` +
      `${tally.durableOrphans} durable orphans, ${tally.reclaimed} reclaimed, ` +
      `${tally.checkpoints} checkpoints, ${tally.crashedVerified} crashed images verified, ${((Date.now() - started) / 1000).toFixed(0)}s`,
  );
});

test("mount crash - a truncate that never committed leaves the fsync'd bytes past its cut alone", async () => {
  const size = 3 * 4096;
  const cuts = [5000, 4097, size - 1, 100];
  await withMount(async (m) => {
    for (let i = 0; i < cuts.length; i++) {
      const h = await open(join(m.dir, `t${i}`), 'w');
      await h.write(Buffer.alloc(size, 0x61 + i));
      await h.sync();
      await h.close();
    }
    const dir = await open(m.dir, 'r');
    await dir.sync();
    await dir.close();
    // well inside the ~1 s commit timer: the truncates are not committed when the mount dies
    for (const [i, cut] of cuts.entries()) await truncate(join(m.dir, `t${i}`), cut);
    await recover(m, await killServer(m));
    for (const [i, cut] of cuts.entries()) {
      const got = await readFile(join(m.dir, `t${i}`));
      const before = Buffer.alloc(size, 0x61 + i);
      const after = before.subarray(0, cut);
      assert.ok(
        got.equals(before) || got.equals(after),
        `t${i}: after the crash the file is neither as fsync'd (${size} bytes) nor cut at ${cut}: ` +
          `${got.length} bytes, ${got.filter((b) => b === 0).length} of them zero, first zero at ${got.indexOf(0)}`,
      );
    }
    await m.unmount();
    await assertReplayClean(m.device, 'the truncate volume');
  });
});

/** SIGKILL the serving process and wait until it is dead (its FUSE connection closed). */
async function killServer(m: TestMount): Promise<number> {
  const pid = m.pid();
  process.kill(pid, 'SIGKILL');
  await waitFor(pid, 'dead');
  return pid;
}

/**
 * After a kill: abort and detach the dead mount, run `whileDown` on the crashed image, and mount
 * again once the killed process is reaped (until then the mount refuses its slot as busy).
 */
async function recover(m: TestMount, pid: number, whileDown?: () => Promise<void>): Promise<void> {
  forceUnmount(m.dir);
  assert.not.ok(isMounted(m.dir), 'the dead mount is detached');
  await whileDown?.();
  await waitFor(pid, 'reaped');
  await m.remount();
}

function report(lines: string[]): Report {
  const rep: Report = {
    synced: [],
    hiding: new Set(),
    durable: new Set(),
    closing: new Set(),
    checkpoints: 0,
    unexpected: [],
  };
  for (const line of lines) {
    const [what, ...rest] = line.split(' ');
    if (what === 'synced') {
      const [path, size, sha] = rest;
      rep.synced.push([path!, { size: Number(size), sha: sha!, round: -1 }]);
    } else if (what === 'hiding') rep.hiding.add(rest[0]!);
    else if (what === 'durable') for (const id of rest[0]!.split(',')) rep.durable.add(id);
    else if (what === 'closing') rep.closing.add(rest[0]!);
    else if (what === 'checkpointed') rep.checkpoints += 1;
    else if (what === 'unexpected') rep.unexpected.push(line);
  }
  return rep;
}

/** Every durable file has its size; those `full` picks also their exact content. */
async function assertDurable(
  dir: string,
  durable: Map<string, Durable>,
  full: (d: Durable) => boolean,
  at: string,
): Promise<void> {
  for (const [path, d] of durable) {
    const st = await lstat(join(dir, path)).catch((err: NodeJS.ErrnoException) => err.code ?? 'error');
    assert.ok(typeof st !== 'string', `${at}: durable file ${path} (from round ${d.round}) is gone: ${st}`);
    if (typeof st === 'string') return;
    assert.is(st.size, d.size, `${at}: size of durable file ${path} (from round ${d.round})`);
    if (full(d)) {
      assert.is(await sha256File(join(dir, path)), d.sha, `${at}: content of durable file ${path}`);
    }
  }
}

/** The orphans a mount reported reclaiming in this piece of its log. */
function reclaimedIn(log: string): number {
  return [...log.matchAll(/reclaimed (\d+) orphan inodes/g)].reduce((n, x) => n + Number(x[1]), 0);
}

/**
 * Wait until a killed process is dead (a zombie or gone: its FUSE connection is closed), or
 * reaped (gone: a new mount of its slot is no longer refused as busy).
 */
async function waitFor(pid: number, state: 'dead' | 'reaped'): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => null);
    // the state follows the command name, which is in parentheses and may hold spaces
    if (stat === null || (state === 'dead' && stat.slice(stat.lastIndexOf(')') + 2)[0] === 'Z')) return;
    assert.ok(Date.now() < deadline, `process ${pid} not ${state} 10 s after SIGKILL`);
    await sleep(20);
  }
}

test.run();
