/*
 * Request polling (src/fuse/request-poll.ts, patch 9 of the binding): once JS has answered and
 * folded, it spins for the next request for an adaptive window instead of going to sleep. What
 * must hold through a real mount:
 *
 *   - a caller making one syscall at a time (create, stat, rename, unlink, one after another)
 *     finds JS polling: most polls catch the request they waited for, and no poll lasts longer
 *     than the window's bound (2 ms here, so a loaded machine's longer gaps are still in it);
 *   - a caller that pauses longer than the bound between bursts of one or two requests (a
 *     create and its release) never has JS spin: a window opens only once two requests in a
 *     row came within the bound, and a longer gap closes it; an idle mount never polls;
 *   - several processes changing one directory at once (so requests arrive while JS is busy,
 *     and the binding counts more than one outstanding) get every answer right;
 *   - poll_us=0 turns it off, and bad values of the option are refused.
 */

import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readdirSync, renameSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ask } from '../../cli/mount-query.js';
import { assertRefused, scoutfs } from '../helpers/cli.js';
import { buildCliIfStale } from '../helpers/fresh-build.js';
import { type TestMount, withMount } from '../helpers/mount.js';
import { assertReplayClean } from '../helpers/mount-checks.js';

test.before(() => buildCliIfStale());

type PollCounters = { poll_spins: number; poll_hits: number; poll_spent_us: number };

async function counters(m: TestMount): Promise<PollCounters> {
  const c = (await ask(m.dir, { op: 'counters' })) as Record<string, number>;
  return { poll_spins: c.poll_spins!, poll_hits: c.poll_hits!, poll_spent_us: c.poll_spent_us! };
}

const delta = (a: PollCounters, b: PollCounters) => ({
  spins: b.poll_spins - a.poll_spins,
  hits: b.poll_hits - a.poll_hits,
  us: b.poll_spent_us - a.poll_spent_us,
});

/** One syscall at a time: create, stat, rename and unlink `n` files. */
function oneAtATime(dir: string, n: number): void {
  mkdirSync(dir);
  for (let i = 0; i < n; i++) closeSync(openSync(join(dir, `f${i}`), 'w'));
  for (let i = 0; i < n; i++) statSync(join(dir, `f${i}`));
  for (let i = 0; i < n; i++) renameSync(join(dir, `f${i}`), join(dir, `g${i}`));
  for (let i = 0; i < n; i++) unlinkSync(join(dir, `g${i}`));
  assert.equal(readdirSync(dir), []);
}

test('request polling - a one-at-a-time caller is caught by polls, each within the bound', async () => {
  await withMount(
    async (m) => {
      const before = await counters(m);
      oneAtATime(join(m.dir, 'd'), 1500);
      const d = delta(before, await counters(m));
      console.log(`one at a time: ${d.spins} polls spun, ${d.hits} caught a request, ${d.us} us`);
      assert.ok(d.spins > 1000, `polls spun: ${d.spins}`);
      assert.ok(d.hits > d.spins * 0.5, `${d.hits} of ${d.spins} polls caught a request`);
      // a poll ends by the end of its window, at most 2 ms after the last answer (plus a clock
      // read and a preemption or two, generously)
      assert.ok(d.us <= d.spins * 2000 + 100_000, `${d.us} us spent in ${d.spins} polls`);
      await m.unmount();
      await assertReplayClean(m.device);
    },
    { options: ['poll_us=2000'] },
  );
});

test('request polling - a slow caller and an idle mount turn the spinning off', async () => {
  await withMount(
    async (m) => {
      oneAtATime(join(m.dir, 'warm'), 300);
      // a create and its release, then 5 ms, far past the 200 us bound: no window opens
      mkdirSync(join(m.dir, 'slow'));
      const before = await counters(m);
      for (let i = 0; i < 100; i++) {
        closeSync(openSync(join(m.dir, 'slow', `f${i}`), 'w'));
        await sleep(5);
      }
      const slow = delta(before, await counters(m));
      console.log(`a request every 5 ms: ${slow.spins} polls spun, ${slow.hits} caught a request`);
      // (the first turn may still find the window the warm-up left open)
      assert.ok(slow.spins <= 2, `bursts every 5 ms: ${slow.spins} polls spun for 200 requests`);
      const idleFrom = await counters(m);
      await sleep(1500);
      const idle = delta(idleFrom, await counters(m));
      assert.is(idle.spins, 0, 'an idle mount does not poll');
    },
    { options: ['poll_us=200'] },
  );
});

test('request polling - several processes changing one directory get every answer right', async () => {
  await withMount(async (m) => {
    const dir = join(m.dir, 'shared');
    mkdirSync(dir);
    const script = `
      const fs = require('node:fs');
      const [dir, id] = process.argv.slice(1);
      for (let i = 0; i < 400; i++) {
        const p = dir + '/w' + id + '-' + i;
        fs.closeSync(fs.openSync(p, 'w'));
        fs.renameSync(p, p + '.r');
        if (i % 2 === 0) fs.unlinkSync(p + '.r');
      }`;
    const workers = [0, 1, 2, 3].map(
      (id) =>
        new Promise<number | null>((resolve) => {
          const c = spawn(process.execPath, ['-e', script, dir, String(id)], { stdio: 'inherit' });
          c.on('exit', (code) => resolve(code));
        }),
    );
    assert.equal(await Promise.all(workers), [0, 0, 0, 0]);
    const names = readdirSync(dir).sort();
    const want = [0, 1, 2, 3].flatMap((id) => Array.from({ length: 200 }, (_, k) => `w${id}-${2 * k + 1}.r`));
    assert.equal(names, want.sort());
    const c = await counters(m);
    assert.ok(c.poll_spins > 0, 'polling was on');
    await m.unmount();
    await assertReplayClean(m.device);
  });
});

test('request polling - poll_us=0 turns it off; bad values are refused', async () => {
  await withMount(
    async (m) => {
      oneAtATime(join(m.dir, 'd'), 300);
      const c = await counters(m);
      assert.is(c.poll_spins, 0);
      assert.is(c.poll_spent_us, 0);
      for (const bad of ['poll_us=', 'poll_us=-1', 'poll_us=abc', 'poll_us=20000']) {
        assertRefused(await scoutfs('mount', '-o', bad, m.device, join(m.scratch, 'x')), 2, /poll_us/);
      }
    },
    { options: ['poll_us=0'] },
  );
});

test.run();
