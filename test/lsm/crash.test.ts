/*
 * Crash test of the index: a SIGKILL during a flush or a compaction, or a torn write of a run,
 * a manifest or an index root, loses nothing that was acknowledged and leaves an index that
 * verifies clean against a full replay of the logs.
 *
 * A child process (test/helpers/index-crash-child.ts) runs the index as a mount does: its
 * commits are folded into a store whose memtable is tiny, so flushes and compactions run all
 * the time, and it asks for a checkpoint every few commits while committing goes on. It says
 * on stdout what it acknowledged, when each checkpoint starts and ends, and what every device
 * write is before it is issued. The parent ends it: with SIGKILL shortly after a checkpoint
 * starts or after a compaction starts writing, or with a write torn at a random byte (armed
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
 * flush before it finished, the compaction did not), and as during a flush when a checkpoint
 * was in progress and no compaction was pending. Rounds go on until each has been hit 30 times.
 * Logs are never trimmed, so the replay always has all history. Rounds are random from a
 * printed seed (INDEX_CRASH_SEED to repeat); children are started ahead of time.
 */

import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
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
import { compactionPending, MARKER_XATTR, type RoundSpec, roundDir, roundOps } from '../helpers/index-crash-child.js';
import { type Rng, rng } from '../helpers/rng.js';
import { MiB, scratchDir } from '../helpers/volume.js';

const CHILD = join(import.meta.dirname, '..', 'helpers', 'index-crash-child.ts');
const DEVICE_BYTES = 512 * MiB;
const LOG_BLOCKS = 32768;
const ROUNDS_PER_VOLUME = 8;
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
  ready: boolean;
  ackedOp: number;
  ackedSeq: number;
  acks: number;
  inCheckpoint: boolean;
  ended: { generation: number; lastSeq: number } | null;
  lastWrite: { kind: string; phase: string } | null;
  failed: string | null;
}

const scratch = scratchDir('scoutfs-index-crash-');
const live = new Set<Child>();
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
  await Promise.all([...live].map((c) => c.kill()));
  scratch.remove();
});

test('index crash - SIGKILL during flush and compaction loses nothing acknowledged', async () => {
  const started = Date.now();
  const r = rng(SEED + 1);
  const tally = { rounds: 0, inFlush: 0, inCompaction: 0, elsewhere: 0, acked: 0, roundsWithAcks: 0 };
  const done = () => tally.inFlush >= KILLS_EACH && tally.inCompaction >= KILLS_EACH;
  const queue = new ChildQueue(() => undefined);
  let vol = await freshVolume();
  try {
    while (!done() && tally.rounds < MAX_KILL_ROUNDS) {
      tally.rounds++;
      const child = queue.take();
      const spec = roundSpec(vol, r, 1 + r.int(4));
      const name = `kill round ${spec.round} (seed ${spec.seed})`;
      child.go(spec);
      await child.waitFor((l) => l.startsWith('ready '), READY_TIMEOUT_MS, name);
      // aim at whichever of the two has been hit less, sometimes anywhere
      const aim = r.next() < 0.15 ? 'anywhere' : tally.inCompaction < tally.inFlush ? 'compaction' : 'flush';
      if (aim === 'compaction') {
        const n = 1 + r.int(3);
        await child.waitFor((l) => l.startsWith('w run C '), EVENT_TIMEOUT_MS, name, n);
        await sleep(r.int(4));
      } else if (aim === 'flush') {
        const n = 1 + r.int(4);
        await child.waitFor((l) => l.startsWith('ckpt-start '), EVENT_TIMEOUT_MS, name, n);
        await sleep(r.int(8));
      } else {
        await sleep(20 + r.int(300));
      }
      await child.kill();
      const said = await ended(child, name);
      const check = await checkVolume(vol, spec, said, name);
      if (check.compactionPending) tally.inCompaction++;
      else if (said.inCheckpoint) tally.inFlush++;
      else tally.elsewhere++;
      tally.acked += said.acks;
      if (said.acks > 0) tally.roundsWithAcks++;
      vol = await maybeRotate(vol);
    }
    await retire(vol, true);
  } finally {
    await queue.close();
  }
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  console.log(`SIGKILL: ${JSON.stringify(tally)} in ${secs}s`);
  assert.ok(tally.inFlush >= KILLS_EACH, `only ${tally.inFlush} kills landed in a flush`);
  assert.ok(tally.inCompaction >= KILLS_EACH, `only ${tally.inCompaction} kills landed in a compaction`);
  assert.ok(tally.roundsWithAcks >= tally.rounds / 2, `only ${tally.roundsWithAcks} rounds acknowledged anything`);
});

test('index crash - a torn run, manifest or index root write loses nothing acknowledged', async () => {
  const started = Date.now();
  const r = rng(SEED + 2);
  const torn: Record<string, number> = {};
  const tally = { rounds: 0, tornInIndex: 0, acked: 0 };
  const queue = new ChildQueue((q) => {
    // small keeps tear a block header or a first unit; large ones land deep in a run write
    const keep = q.next() < 0.4 ? q.int(4096) : q.int(256 * 1024);
    return `device.write.torn:after=${1 + q.int(40)},keep=${keep}`;
  }, rng(SEED + 3));
  let vol = await freshVolume();
  try {
    while ((tally.tornInIndex < TORN_ROUNDS || tally.rounds < TORN_ROUNDS) && tally.rounds < MAX_TORN_ROUNDS) {
      tally.rounds++;
      const child = queue.take();
      const spec = roundSpec(vol, r, 1);
      const name = `torn round ${spec.round} (seed ${spec.seed}, ${child.triggers})`;
      child.go(spec);
      const died = await child.until(() => child.dead, EVENT_TIMEOUT_MS);
      if (!died) await child.kill();
      assert.ok(died, `${name}: the armed tear never ended the child\n${child.output()}`);
      const said = await ended(child, name);
      await checkVolume(vol, spec, said, name);
      const kind = said.lastWrite?.kind ?? 'none';
      torn[kind] = (torn[kind] ?? 0) + 1;
      if (kind === 'run' || kind === 'manifest' || kind === 'root') tally.tornInIndex++;
      tally.acked += said.acks;
      vol = await maybeRotate(vol);
    }
    await retire(vol, true);
  } finally {
    await queue.close();
  }
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  console.log(`torn: ${JSON.stringify({ ...tally, torn })} in ${secs}s`);
  assert.ok(tally.tornInIndex >= TORN_ROUNDS, `only ${tally.tornInIndex} tears landed in index writes`);
  assert.ok(cliVerified >= 2, `scoutfs replay --verify ran on only ${cliVerified} volumes`);
});

function roundSpec(vol: Volume, r: Rng, checkpointEvery: number): RoundSpec {
  vol.rounds++;
  return { path: vol.path, seed: r.int(2 ** 31), round: nextRound++, checkpointEvery, maxOps: MAX_OPS };
}

/** Wait for the child's death, check it was SIGKILL, and read what it said. */
async function ended(child: Child, name: string): Promise<Said> {
  const exit = await child.exited;
  assert.is(exit.signal, 'SIGKILL', `${name}: child exited with ${exit.code}\n${child.output()}`);
  const said = parse(child.lines);
  assert.is(said.failed, null, `${name}: child failed: ${said.failed}`);
  return said;
}

function parse(lines: readonly string[]): Said {
  const said: Said = {
    ready: false,
    ackedOp: -1,
    ackedSeq: 0,
    acks: 0,
    inCheckpoint: false,
    ended: null,
    lastWrite: null,
    failed: null,
  };
  for (const line of lines) {
    const [what, a, b, c] = line.split(' ');
    if (what === 'ready') said.ready = true;
    else if (what === 'acked') {
      said.ackedOp = Number(a);
      said.ackedSeq = Number(b);
      said.acks++;
    } else if (what === 'ckpt-start') said.inCheckpoint = true;
    else if (what === 'ckpt-end') {
      said.inCheckpoint = false;
      said.ended = { generation: Number(b), lastSeq: Number(c) };
    } else if (what === 'w') said.lastWrite = { kind: a!, phase: b! };
    else if (what === 'failed') said.failed = line;
    else if (what !== 'done') assert.unreachable(`unexpected line from the child: ${line}`);
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
    assert.is(cmp.total, 0, `${name}: index differs from replay: ${JSON.stringify(cmp.differences, null, 1)}`);
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
    assert.is(found, alive, `${name}: inode ${ino} ${alive ? 'missing' : 'still there'} after operation ${last}`);
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

async function maybeRotate(vol: Volume): Promise<Volume> {
  if (vol.rounds < ROUNDS_PER_VOLUME) return vol;
  await retire(vol, volumesMade % 2 === 0);
  return freshVolume();
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

/** An index-crash-child process; its stdout is kept as lines. */
class Child {
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly lines: string[] = [];
  dead = false;
  private stderr = '';
  private partial = '';
  private readonly proc: ChildProcessWithoutNullStreams;
  private changed: () => void = () => {};

  constructor(readonly triggers: string | undefined) {
    const env = { ...process.env, SCOUTFS_TRIGGERS: triggers ?? '' };
    this.proc = spawn(process.execPath, ['--import', 'tsx', CHILD], { env });
    live.add(this);
    this.proc.stdin.on('error', () => {});
    this.proc.stdout.setEncoding('utf8').on('data', (d: string) => {
      const parts = (this.partial + d).split('\n');
      this.partial = parts.pop()!;
      this.lines.push(...parts);
      this.changed();
    });
    this.proc.stderr.on('data', (d) => {
      this.stderr += d;
    });
    this.exited = new Promise((resolve) => {
      this.proc.on('close', (code, signal) => {
        this.dead = true;
        live.delete(this);
        this.changed();
        resolve({ code, signal });
      });
    });
  }

  go(spec: RoundSpec): void {
    this.proc.stdin.write(`${JSON.stringify(spec)}\n`);
  }

  /** Wait until `count` lines satisfy `pred`; fails the test if the child dies or time runs out. */
  async waitFor(pred: (line: string) => boolean, ms: number, name: string, count = 1): Promise<void> {
    const hit = () => this.lines.filter(pred).length >= count;
    const ok = await this.until(() => hit() || this.dead, ms);
    assert.ok(ok && hit(), `${name}: the child never said what was awaited\n${this.output()}`);
  }

  async until(done: () => boolean, ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (!done() && Date.now() < deadline) {
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.changed = resolve;
        timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
      });
      clearTimeout(timer);
    }
    return done();
  }

  output(): string {
    return `${this.lines.slice(-40).join('\n')}\n${this.stderr}`;
  }

  async kill(): Promise<void> {
    if (!this.dead) this.proc.kill('SIGKILL');
    await this.exited;
  }
}

test.run();
