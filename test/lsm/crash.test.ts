/*
 * Crash test of the index: a SIGKILL during a flush or a compaction, or a torn write of a run,
 * a manifest or an index root, loses nothing that was acknowledged and leaves an index that
 * verifies clean against a full replay of the logs.
 *
 * A child process (test/helpers/index-crash-child.ts) runs the index as a mount does: its
 * commits are folded into a store whose memtable is tiny, so flushes and compactions run all
 * the time, and it asks for a checkpoint every few commits while committing goes on. It says
 * on stdout what it acknowledged, when each checkpoint starts and ends, and what every device
 * write is before it is issued. The parent ends it: with SIGKILL just after a flush or a
 * compaction starts writing its run, or with a write torn at a random byte (armed
 * through SCOUTFS_TRIGGERS). Then it opens the volume itself and checks:
 *
 *   - the index opens, its runs pass their checks and its items keep their invariants
 *     (checkIndex), and it holds exactly the items a full replay of the logs rebuilds;
 *   - every acknowledged seq is folded in, and every finished checkpoint is still durable;
 *   - the index holds a whole prefix of the round's operations, at least every acknowledged
 *     one: their inodes and names exist, those they removed do not, and the next operation's
 *     inodes do not;
 *   - on some volumes, the real `scoutfs replay DEV --verify` says 'verify: clean'.
 *
 * A kill counts as during a compaction when the manifest it left has a compaction pending (the
 * flush before it switched the manifest, the compaction did not), and as during a flush when
 * the flush had written its run (and maybe its manifest) but not yet the index root that
 * switches to them. Rounds go on until each has been hit 30 times.
 * Logs are never trimmed, so the replay always has all history. Rounds are random from a
 * printed seed (INDEX_CRASH_SEED to repeat); children are started ahead of time.
 */

import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { openFileDevice } from '../../src/device/file-device.js';
import { Triggers } from '../../src/device/triggers.js';
import { direntKey, inodeKey, xattrKey } from '../../src/format/key.js';
import { ALL_KEYS } from '../../src/lsm/lsm.js';
import { mkfs } from '../../src/node/mkfs.js';
import { replayVolume } from '../../src/node/replay.js';
import { Store } from '../../src/node/store.js';
import { checkIndex, compareItems } from '../../src/node/verify.js';
import { openVolume } from '../../src/volume/volume.js';
import { ROOT, scoutfs } from '../helpers/cli.js';
import { CrashProcess, killAllChildren } from '../helpers/crash-process.js';
import {
  compactionPending,
  MARKER_XATTR,
  type RoundSpec,
  roundDir,
  roundOps,
} from '../helpers/index-crash-child.js';
import { type Rng, rng } from '../helpers/rng.js';
import { MiB, scratchDir } from '../helpers/volume.js';

const CHILD = join(import.meta.dirname, '..', 'helpers', 'index-crash-child.ts');
const DEVICE_BYTES = 512 * MiB;
const LOG_BLOCKS = 32768;
const ROUNDS_PER_VOLUME = 5;
const LANES = 2;
/** Enough operations that no child runs out before it is ended. */
const MAX_OPS = 1500;
const KILLS_EACH = 30;
const MAX_KILL_ROUNDS = 120;
const TORN_ROUNDS = 20;
const MAX_TORN_ROUNDS = 50;
const PREWARMED = 2;
const READY_TIMEOUT_MS = 30_000;
const EVENT_TIMEOUT_MS = 20_000;
const SEED = Number(process.env.INDEX_CRASH_SEED ?? Date.now() % 2 ** 31);

interface Volume {
  path: string;
  rounds: number;
}

/** What a child said before it died. */
interface Said {
  ackedOp: number;
  ackedSeq: number;
  acks: number;
  inCheckpoint: boolean;
  ended: { generation: number; lastSeq: number } | null;
  lastWrite: { kind: string; phase: string } | null;
  /** Phase of a run or manifest written whose index root was not written yet, if any. */
  unswitched: string | null;
  failed: string | null;
}

const scratch = scratchDir('scoutfs-index-crash-');
let build: Promise<void> | null = null;
let nextRound = 0;
let volumesMade = 0;
let cliVerified = 0;

console.log(`index crash seed ${SEED} (repeat with INDEX_CRASH_SEED=${SEED})`);

test.before(() => {
  build = buildInBackground();
  build.catch(() => {});
});

test.after(async () => {
  await killAllChildren();
  scratch.remove();
});

test('index crash - SIGKILL during flush and compaction loses nothing acknowledged', async () => {
  const started = Date.now();
  const tally = {
    rounds: 0,
    inFlush: 0,
    inCompaction: 0,
    /** In a checkpoint, but before its flush wrote anything or after all was switched. */
    inCheckpointOtherwise: 0,
    elsewhere: 0,
    acked: 0,
    roundsWithAcks: 0,
  };
  /** The last write each child started before it died, as "KIND PHASE" (see the child). */
  const lastWrites: Record<string, number> = {};
  const more = () =>
    (tally.inFlush < KILLS_EACH || tally.inCompaction < KILLS_EACH) && tally.rounds < MAX_KILL_ROUNDS;
  await lanes(
    SEED + 10,
    () => undefined,
    more,
    async (lane, child) => {
      tally.rounds++;
      const r = lane.r;
      const spec = roundSpec(lane, 1 + r.int(2), false);
      const name = `kill round ${spec.round} (seed ${spec.seed})`;
      child.go(spec);
      await child.waitFor((l) => l.startsWith('ready '), READY_TIMEOUT_MS, name);
      // aim just after a flush's or a compaction's run write, whichever has been hit less
      const aim = r.next() < 0.1 ? null : tally.inCompaction < tally.inFlush ? 'C' : 'F';
      if (aim) {
        await child.waitFor((l) => l.startsWith(`w run ${aim} `), EVENT_TIMEOUT_MS, name, 1 + r.int(2));
        await sleep(r.int(4));
      } else {
        await sleep(r.int(300));
      }
      await child.kill();
      const said = await ended(child, name);
      const check = await checkVolume(lane.vol, spec, said, name);
      const last = said.lastWrite ? `${said.lastWrite.kind} ${said.lastWrite.phase}` : 'none';
      lastWrites[last] = (lastWrites[last] ?? 0) + 1;
      if (check.compactionPending) tally.inCompaction++;
      else if (said.unswitched === 'F') tally.inFlush++;
      else if (said.inCheckpoint) tally.inCheckpointOtherwise++;
      else tally.elsewhere++;
      tally.acked += said.acks;
      if (said.acks > 0) tally.roundsWithAcks++;
    },
  );
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  console.log(`SIGKILL: ${JSON.stringify({ ...tally, lastWrites })} in ${secs}s`);
  assert.ok(tally.inFlush >= KILLS_EACH, `only ${tally.inFlush} kills landed in a flush`);
  assert.ok(tally.inCompaction >= KILLS_EACH, `only ${tally.inCompaction} kills landed in a compaction`);
  assert.ok(
    tally.roundsWithAcks >= tally.rounds / 2,
    `only ${tally.roundsWithAcks} rounds acknowledged anything`,
  );
});

test('index crash - a torn run, manifest or index root write loses nothing acknowledged', async () => {
  const started = Date.now();
  const torn: Record<string, number> = {};
  const tally = { rounds: 0, tornInIndex: 0, acked: 0 };
  const more = () =>
    (tally.tornInIndex < TORN_ROUNDS || tally.rounds < TORN_ROUNDS) && tally.rounds < MAX_TORN_ROUNDS;
  const triggers = (r: Rng) => {
    // small keeps tear a block header or a manifest; large ones land deep in a run write
    const keep = r.next() < 0.4 ? r.int(4096) : r.int(256 * 1024);
    return `device.write.torn:after=${2 + r.int(24)},keep=${keep}`;
  };
  await lanes(SEED + 20, triggers, more, async (lane, child) => {
    tally.rounds++;
    const spec = roundSpec(lane, 1, true);
    const name = `torn round ${spec.round} (seed ${spec.seed}, ${child.triggers})`;
    child.go(spec);
    const died = await child.until(() => child.dead, EVENT_TIMEOUT_MS);
    if (!died) await child.kill();
    assert.ok(died, `${name}: the armed tear never ended the child\n${child.output()}`);
    const said = await ended(child, name);
    await checkVolume(lane.vol, spec, said, name);
    const kind = said.lastWrite?.kind ?? 'none';
    torn[kind] = (torn[kind] ?? 0) + 1;
    if (kind === 'run' || kind === 'manifest' || kind === 'root') tally.tornInIndex++;
    tally.acked += said.acks;
  });
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  console.log(`torn: ${JSON.stringify({ ...tally, torn, cliVerified })} in ${secs}s`);
  assert.ok(tally.tornInIndex >= TORN_ROUNDS, `only ${tally.tornInIndex} tears landed in index writes`);
  assert.ok(cliVerified >= 2, `scoutfs replay --verify ran on only ${cliVerified} volumes`);
});

interface Lane {
  r: Rng;
  vol: Volume;
}

/**
 * Run rounds on LANES volumes at once while `more()`: each lane has its own volume (replaced
 * every few rounds), its own children started ahead, and its own rng from `seed`. A failure
 * in one lane stops the others before it is reported.
 */
async function lanes(
  seed: number,
  triggers: (r: Rng) => string | undefined,
  more: () => boolean,
  round: (lane: Lane, child: Child) => Promise<void>,
): Promise<void> {
  let failed = false;
  const results = await Promise.allSettled(
    Array.from({ length: LANES }, async (_, i) => {
      const lane: Lane = { r: rng(seed + i), vol: await freshVolume() };
      const queue = new ChildQueue(triggers, rng(seed + 100 + i));
      try {
        while (!failed && more()) {
          await round(lane, queue.take());
          if (lane.vol.rounds >= ROUNDS_PER_VOLUME) {
            await retire(lane.vol, volumesMade % 8 === 0);
            lane.vol = await freshVolume();
          }
        }
        if (!failed) await retire(lane.vol, true);
      } catch (err) {
        failed = true;
        throw err;
      } finally {
        await queue.close();
      }
    }),
  );
  for (const x of results) if (x.status === 'rejected') throw x.reason;
}

function roundSpec(lane: Lane, checkpointEvery: number, awaitCheckpoint: boolean): RoundSpec {
  lane.vol.rounds++;
  return {
    path: lane.vol.path,
    seed: lane.r.int(2 ** 31),
    round: nextRound++,
    checkpointEvery,
    awaitCheckpoint,
    maxOps: MAX_OPS,
  };
}

/** Wait for the child's death, check it was SIGKILL, and read what it said. */
async function ended(child: Child, name: string): Promise<Said> {
  const exit = await child.exited;
  assert.is(exit.signal, 'SIGKILL', `${name}: child exited with ${exit.code}\n${child.output()}`);
  const said = parse(child.lines());
  assert.is(said.failed, null, `${name}: child failed: ${said.failed}`);
  return said;
}

function parse(lines: readonly string[]): Said {
  const said: Said = {
    ackedOp: -1,
    ackedSeq: 0,
    acks: 0,
    inCheckpoint: false,
    ended: null,
    lastWrite: null,
    unswitched: null,
    failed: null,
  };
  for (const line of lines) {
    const [what, a, b, c] = line.split(' ');
    if (what === 'acked') {
      said.ackedOp = Number(a);
      said.ackedSeq = Number(b);
      said.acks++;
    } else if (what === 'ckpt-start') said.inCheckpoint = true;
    else if (what === 'ckpt-end') {
      said.inCheckpoint = false;
      said.ended = { generation: Number(b), lastSeq: Number(c) };
    } else if (what === 'w') {
      said.lastWrite = { kind: a!, phase: b! };
      if (a === 'run' || a === 'manifest') said.unswitched = b!;
      else if (a === 'root') said.unswitched = null;
    } else if (what === 'failed') said.failed = line;
    else if (what !== 'ready' && what !== 'done')
      assert.unreachable(`unexpected line from the child: ${line}`);
  }
  return said;
}

/** Open the volume after a crash and check it against what the child said (see the top). */
async function checkVolume(
  v: Volume,
  spec: RoundSpec,
  said: Said,
  name: string,
): Promise<{ compactionPending: boolean }> {
  const vol = await openVolume(v.path, { readOnly: true, triggers: new Triggers() });
  try {
    const store = await Store.open(vol);
    const m = store.lsm.manifest;
    const structure = await checkIndex(store);
    assert.equal(structure.problems, [], `${name}: index problems`);
    const replay = await replayVolume(vol);
    const cmp = await compareItems(store.lsm.scan(ALL_KEYS), replay.index.scan(ALL_KEYS));
    assert.is(
      cmp.total,
      0,
      `${name}: index differs from replay: ${JSON.stringify(cmp.differences, null, 1)}`,
    );
    assert.is(store.lastSeq, replay.lastSeq, `${name}: index and replay end at different seqs`);
    assert.ok(
      said.ackedSeq <= store.lastSeq,
      `${name}: seq ${said.ackedSeq} was acknowledged, the index ends at ${store.lastSeq}`,
    );
    if (said.ended) {
      assert.ok(
        m.generation >= said.ended.generation && m.lastSeq >= said.ended.lastSeq,
        `${name}: manifest ${m.generation} at seq ${m.lastSeq} is older than a finished checkpoint's ` +
          `${said.ended.generation} at seq ${said.ended.lastSeq}`,
      );
    }
    await checkRoundPrefix(store, spec, said, name);
    await store.close();
    return { compactionPending: compactionPending(m) };
  } catch (err) {
    if (err instanceof assert.Assertion) throw err;
    const last = said.lastWrite ? `${said.lastWrite.kind} ${said.lastWrite.phase}` : 'none';
    throw new Error(`${name}: after the crash (last write: ${last}): ${(err as Error).message}`, {
      cause: err,
    });
  } finally {
    await vol.dev.close();
  }
}

/**
 * The index holds operations 0..K of the round, K at least the last acknowledged one: the
 * inodes and names they leave exist, those they removed do not, nor those operation K+1 makes.
 */
async function checkRoundPrefix(store: Store, spec: RoundSpec, said: Said, name: string): Promise<void> {
  const dir = roundDir(spec.round);
  const marker = await store.lsm.get(xattrKey(dir, MARKER_XATTR));
  const last = marker ? Number(marker.toString()) : -1;
  assert.ok(
    last >= said.ackedOp,
    `${name}: operation ${said.ackedOp} was acknowledged, the index holds up to ${last}`,
  );
  const inodes = new Map<number, boolean>();
  const names = new Map<string, { dir: number; name: Buffer; live: boolean }>();
  const ops = roundOps(spec.seed, spec.round);
  for (let op = 0; op <= last; op++) {
    for (const e of ops.next().value!) {
      if (e.type === 'InodeCreated') inodes.set(e.ino, true);
      else if (e.type === 'InodeDeleted') inodes.set(e.ino, false);
      else if (e.type === 'DirentAdded' || e.type === 'DirentRemoved') {
        const n = Buffer.from(e.name);
        names.set(`${e.dir}/${n.toString('hex')}`, { dir: e.dir, name: n, live: e.type === 'DirentAdded' });
      }
    }
  }
  for (const [ino, alive] of inodes) {
    const found = (await store.lsm.get(inodeKey(ino))) !== null;
    assert.is(
      found,
      alive,
      `${name}: inode ${ino} ${alive ? 'missing' : 'still there'} after operation ${last}`,
    );
  }
  for (const d of names.values()) {
    const found = (await store.lsm.get(direntKey(d.dir, d.name))) !== null;
    assert.is(found, d.live, `${name}: name ${d.name} in ${d.dir} ${d.live ? 'missing' : 'still there'}`);
  }
  for (const e of ops.next().value!) {
    if (e.type === 'InodeCreated') {
      const found = await store.lsm.get(inodeKey(e.ino));
      assert.is(found, null, `${name}: inode ${e.ino} of operation ${last + 1} is there without its marker`);
    }
  }
}

async function freshVolume(): Promise<Volume> {
  const path = join(scratch.dir, `vol${volumesMade++}.img`);
  const dev = await openFileDevice(path, { createBytes: DEVICE_BYTES });
  try {
    await mkfs(dev, { quorumCount: 1, logSlots: 2, logBlocksPerSlot: LOG_BLOCKS });
  } finally {
    await dev.close();
  }
  return { path, rounds: 0 };
}

/** Done with a volume: check it with the real CLI when asked, then remove it. */
async function retire(vol: Volume, withCli: boolean): Promise<void> {
  if (withCli) {
    await build;
    const out = await scoutfs('replay', vol.path, '--verify');
    assert.is(out.code, 0, `replay --verify of ${vol.path}:\n${out.stdout}${out.stderr}`);
    assert.match(out.stdout, /verify: clean/);
    cliVerified++;
  }
  rmSync(vol.path);
}

/** `npm run build` (dist/ for bin/scoutfs.js) while the first rounds run. */
function buildInBackground(): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d) => {
      out += d;
    });
    p.stderr.on('data', (d) => {
      out += d;
    });
    p.on('error', reject);
    p.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`npm run build failed:\n${out}`))));
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Children started ahead of their rounds, each with its faults (from `triggers`) armed. */
class ChildQueue {
  private readonly queue: Child[] = [];

  constructor(
    private readonly triggers: (r: Rng) => string | undefined,
    private readonly r: Rng = rng(0),
  ) {}

  take(): Child {
    this.fill();
    const child = this.queue.shift()!;
    this.fill();
    return child;
  }

  async close(): Promise<void> {
    await Promise.all(this.queue.splice(0).map((c) => c.kill()));
  }

  private fill(): void {
    while (this.queue.length < PREWARMED) this.queue.push(new Child(this.triggers(this.r)));
  }
}

/** An index-crash-child process, told its round as a JSON line. */
class Child extends CrashProcess {
  constructor(triggers: string | undefined) {
    super(CHILD, triggers);
  }

  go(spec: RoundSpec): void {
    this.send(JSON.stringify(spec));
  }

  /** Wait until `count` lines satisfy `pred`; fails the test if the child dies or time runs out. */
  async waitFor(pred: (line: string) => boolean, ms: number, name: string, count = 1): Promise<void> {
    const hit = () => this.lines().filter(pred).length >= count;
    const ok = await this.until(() => hit() || this.dead, ms);
    assert.ok(ok && hit(), `${name}: the child never said what was awaited\n${this.output()}`);
  }
}

test.run();
