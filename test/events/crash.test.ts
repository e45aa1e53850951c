/*
 * Crash test of the log: what commit() acknowledged survives kill -9, a torn write and a crash
 * before sync; nothing else half-survives.
 *
 * A child process (test/helpers/crash-child.ts) commits operations to a file-backed filesystem
 * as fast as it can, several in flight so group commit shares transactions between them, and
 * reports each operation on stdout before it is appended (its events' fingerprint), once it is
 * in a transaction (the seq), and once commit() acknowledged it. The parent ends the child:
 * SIGKILL at a random moment, or a fault armed through SCOUTFS_TRIGGERS that tears a write at a
 * random byte or skips a sync, and kills the child right there. Then it reads slot 0's log and
 * checks the invariants:
 *
 *   - the log reads to a clean stop ('end' or 'torn'), seqs strictly grow, lsns are consecutive;
 *   - what an earlier check read is still there, unchanged (a writer never overwrites it);
 *   - every transaction is exactly a concatenation of whole operations the child planned, and
 *     holds every operation reported as appended to its seq: no torn or partial transaction;
 *   - every acknowledged operation is there, in the transaction with its seq, and so is every
 *     operation appended to that seq or an earlier one (durability is a prefix);
 *   - the next child reopens the log for writing, finds the same last seq, and appends past a
 *     torn record; at the end the parent itself appends and reads back past the last crash.
 *
 * Children are started ahead of time and wait for their device on stdin, so loading modules
 * overlaps the previous round. Rounds are random from a printed seed (CRASH_SEED to repeat).
 */

import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { openFileDevice } from '../../src/device/file-device.js';
import { Triggers } from '../../src/device/triggers.js';
import type { FsEvent, Transaction } from '../../src/events/event.js';
import { LogCursor, type LogStop } from '../../src/events/log-cursor.js';
import { LogWriter } from '../../src/events/log-writer.js';
import { LocalSeqAuthority } from '../../src/events/seq-authority.js';
import { mkfs } from '../../src/node/mkfs.js';
import { openVolume } from '../../src/volume/volume.js';
import { fingerprint, lastCommittedSeq } from '../helpers/crash-child.js';
import { CrashProcess, killAllChildren } from '../helpers/crash-process.js';
import { type Rng, rng } from '../helpers/rng.js';
import { MiB, sampleEvent, scratchDir } from '../helpers/volume.js';

const CHILD = join(import.meta.dirname, '..', 'helpers', 'crash-child.ts');
const DEVICE_BYTES = 96 * MiB;
const LOG_BLOCKS = 8192;
/** Start a fresh filesystem once the log holds this many blocks, long before it is full. */
const ROTATE_BLOCKS = LOG_BLOCKS / 3;
const PREWARMED = 2;
const READY_TIMEOUT_MS = 30_000;
const TRIGGER_TIMEOUT_MS = 15_000;
const SEED = Number(process.env.CRASH_SEED ?? Date.now() % 2 ** 31);

type Kind = 'kill' | 'torn' | 'sync';

interface Op {
  count: number;
  fp: string;
  seq?: number;
  durable?: number;
}

interface Round {
  name: string;
  readySeq: number | null;
  ops: Map<number, Op>;
}

interface Filesystem {
  path: string;
  /** Every transaction read so far, in log order: later reads must start with the same. */
  seen: { seq: number; lsn: number; fp: string }[];
  lastSeq: number;
  stop: LogStop | null;
  usedBlocks: number;
}

interface Tally {
  rounds: number;
  roundsWithAcks: number;
  acked: number;
  planned: number;
  txns: number;
  tornStops: number;
  appendsPastTorn: number;
  filesystems: number;
}

const scratch = scratchDir('scoutfs-crash-');
let nextEventBase = 1_000_000;
let filesystemsMade = 0;

console.log(`log crash seed ${SEED} (repeat with CRASH_SEED=${SEED})`);

test.after(async () => {
  await killAllChildren();
  scratch.remove();
});

test('log crash - every acknowledged transaction survives SIGKILL at random moments', async () => {
  const t = await crashRounds(1, 'kill', 50);
  assert.ok(
    t.roundsWithAcks >= t.rounds / 2,
    `only ${t.roundsWithAcks} of ${t.rounds} rounds acknowledged anything`,
  );
});

test('log crash - a torn write loses only unacknowledged transactions and the log goes on past it', async () => {
  const t = await crashRounds(2, 'torn', 25);
  assert.ok(t.tornStops > 0, 'no round ended in a torn record; the torn offsets miss the records');
  assert.ok(t.appendsPastTorn > 0, 'no append was read back past a torn record');
});

test('log crash - a crash before sync loses only unacknowledged transactions', async () => {
  await crashRounds(3, 'sync', 10);
});

/** Run `count` rounds of one kind on fresh filesystems, checking the log after each. */
async function crashRounds(testNo: number, kind: Kind, count: number): Promise<Tally> {
  const started = Date.now();
  const r = rng(SEED + testNo);
  const tally: Tally = {
    rounds: 0,
    roundsWithAcks: 0,
    acked: 0,
    planned: 0,
    txns: 0,
    tornStops: 0,
    appendsPastTorn: 0,
    filesystems: 0,
  };
  const queue: Child[] = [];
  const refill = () => {
    while (queue.length < PREWARMED && tally.rounds + queue.length < count)
      queue.push(new Child(triggers(kind, r)));
  };
  let fs = await freshFilesystem(tally);
  try {
    for (let i = 0; i < count; i++) {
      refill();
      const child = queue.shift()!;
      refill();
      tally.rounds++;
      const round = await crashRound(
        fs,
        child,
        kind,
        `${kind} round ${i} (${child.triggers ?? 'SIGKILL'})`,
        r,
      );
      await checkLog(fs, round, tally);
      if (fs.usedBlocks > ROTATE_BLOCKS) {
        await appendAfterCrash(fs, tally);
        rmSync(fs.path);
        fs = await freshFilesystem(tally);
      }
    }
    await appendAfterCrash(fs, tally);
  } finally {
    await killAllChildren();
  }
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  console.log(`${kind}: ${JSON.stringify(tally)} in ${secs}s`);
  return tally;
}

function triggers(kind: Kind, r: Rng): string | undefined {
  if (kind === 'torn') {
    // mostly inside the record header or payload: past those the rest is padding, already zero
    const keep = r.next() < 0.3 ? r.int(64) : 64 + r.int(1500);
    return `device.write.torn:after=${r.int(8)},keep=${keep}`;
  }
  if (kind === 'sync') return `device.sync.crash:after=${r.int(8)}`;
  return undefined;
}

/** One child's life on the filesystem: start it, let it commit, end it; returns what it said. */
async function crashRound(fs: Filesystem, child: Child, kind: Kind, name: string, r: Rng): Promise<Round> {
  const base = nextEventBase;
  nextEventBase += 1_000_000;
  child.go(`${base} ${1 + r.int(8)} ${fs.path}`);
  if (kind === 'kill') {
    const ready = await child.until(() => child.said('ready'), READY_TIMEOUT_MS);
    assert.ok(ready && !child.dead, `${name}: child not ready\n${child.stderr}`);
    await sleep(20 + r.int(281));
    assert.not.ok(child.dead, `${name}: child died before it was killed\n${child.stderr}`);
    await child.kill();
  } else {
    const died = await child.until(() => child.dead, TRIGGER_TIMEOUT_MS);
    if (!died) await child.kill();
    assert.ok(died, `${name}: the armed fault never ended the child\n${child.output()}`);
  }
  const exit = await child.exited;
  assert.is(exit.signal, 'SIGKILL', `${name}: child exited with ${exit.code}\n${child.stderr}`);
  return parseRound(name, child.lines(), fs.lastSeq);
}

function parseRound(name: string, lines: string[], lastSeq: number): Round {
  const round: Round = { name, readySeq: null, ops: new Map() };
  for (const line of lines) {
    const [what, a, b, c] = line.split(' ');
    const op = round.ops.get(Number(a));
    if (what === 'ready') {
      round.readySeq = Number(a);
      assert.is(round.readySeq, lastSeq, `${name}: child found last seq ${a}, the log ends at ${lastSeq}`);
    } else if (what === 'planned') {
      round.ops.set(Number(a), { count: Number(b), fp: c! });
    } else if (what === 'appended' && op) {
      op.seq = Number(b);
    } else if (what === 'acked' && op) {
      assert.is(Number(b), op.seq, `${name}: op ${a} acknowledged with another seq`);
      op.durable = Number(c);
      assert.ok(op.durable >= op.seq!, `${name}: op ${a} of seq ${b} acknowledged with durable seq ${c}`);
    } else {
      assert.unreachable(`${name}: unexpected line from the child: ${line}`);
    }
  }
  return round;
}

/** Read slot 0 and check the log against everything the children said (see the top). */
async function checkLog(fs: Filesystem, round: Round, tally: Tally): Promise<void> {
  const { txns, stop, usedBlocks } = await readLog(fs.path);
  const name = round.name;
  assert.ok(
    stop && (stop.kind === 'end' || stop.kind === 'torn'),
    `${name}: log stop ${JSON.stringify(stop)}`,
  );
  assert.ok(
    txns.length >= fs.seen.length,
    `${name}: log shrank from ${fs.seen.length} to ${txns.length} records`,
  );
  txns.forEach((t, i) => {
    if (i > 0) {
      assert.ok(t.seq > txns[i - 1]!.seq, `${name}: seq ${t.seq} after ${txns[i - 1]!.seq}`);
      assert.is(t.lsn, txns[i - 1]!.lsn + 1, `${name}: lsn ${t.lsn} after ${txns[i - 1]!.lsn}`);
    }
    const was = fs.seen[i];
    if (was) {
      const now = { seq: t.seq, lsn: t.lsn, fp: fingerprint(t.events) };
      assert.equal(now, was, `${name}: record lsn ${was.lsn} changed since the last check`);
    }
  });

  const fresh = txns.slice(fs.seen.length);
  if (round.readySeq === null)
    assert.is(fresh.length, 0, `${name}: records from a child that never got ready`);
  const placed = new Map<number, Transaction>();
  for (const t of fresh) {
    assert.ok(t.seq > round.readySeq!, `${name}: seq ${t.seq} is not above the ready seq ${round.readySeq}`);
    for (const op of splitIntoOps(name, t, round)) {
      const twice = placed.get(op);
      assert.not.ok(twice, `${name}: op ${op} is in seq ${twice?.seq} and again in seq ${t.seq}`);
      placed.set(op, t);
    }
  }

  let maxAcked = 0;
  for (const [id, op] of round.ops) {
    if (op.durable === undefined) continue;
    tally.acked++;
    maxAcked = Math.max(maxAcked, op.seq!);
    assert.is(
      placed.get(id)?.seq,
      op.seq,
      `${name}: acknowledged op ${id} of seq ${op.seq} is not in the log`,
    );
  }
  for (const [id, op] of round.ops) {
    if (op.seq !== undefined && op.seq <= maxAcked) {
      assert.ok(
        placed.has(id),
        `${name}: op ${id} of seq ${op.seq} is lost though seq ${maxAcked} is acknowledged`,
      );
    }
  }

  if (maxAcked > 0) tally.roundsWithAcks++;
  if (fs.stop?.kind === 'torn' && fresh.some((t) => t.events.length > 0)) tally.appendsPastTorn++;
  if (stop.kind === 'torn') tally.tornStops++;
  tally.planned += round.ops.size;
  tally.txns += fresh.length;
  fs.seen.push(...fresh.map((t) => ({ seq: t.seq, lsn: t.lsn, fp: fingerprint(t.events) })));
  fs.lastSeq = txns.at(-1)?.seq ?? 0;
  fs.stop = stop;
  fs.usedBlocks = usedBlocks;
}

/**
 * Cut a transaction into the operations it holds: each must be one the round planned that has
 * this seq or was not yet reported appended; every op reported appended to this seq must be there.
 */
function splitIntoOps(name: string, t: Transaction, round: Round): number[] {
  const found: number[] = [];
  const open = [...round.ops].filter(([, op]) => op.seq === t.seq || op.seq === undefined);
  let at = 0;
  while (at < t.events.length) {
    const fps = new Map<number, string>();
    const slice = (n: number) => fps.get(n) ?? fps.set(n, fingerprint(t.events.slice(at, at + n))).get(n)!;
    const hit = open.find(
      ([id, op]) => !found.includes(id) && at + op.count <= t.events.length && slice(op.count) === op.fp,
    );
    assert.ok(
      hit,
      `${name}: seq ${t.seq} (lsn ${t.lsn}) event ${at} of ${t.events.length} starts no whole operation`,
    );
    found.push(hit[0]);
    at += hit[1].count;
  }
  for (const [id, op] of round.ops) {
    if (op.seq === t.seq) assert.ok(found.includes(id), `${name}: op ${id} is missing from its seq ${t.seq}`);
  }
  return found;
}

/** The parent itself opens the log for writing after the last crash, appends, and reads it back. */
async function appendAfterCrash(fs: Filesystem, tally: Tally): Promise<void> {
  const vol = await openVolume(fs.path, { triggers: new Triggers() });
  const round: Round = { name: `append after the last crash on ${fs.path}`, readySeq: null, ops: new Map() };
  try {
    round.readySeq = await lastCommittedSeq(vol);
    assert.is(round.readySeq, fs.lastSeq);
    const log = await LogWriter.open(vol, 0, new LocalSeqAuthority(round.readySeq));
    const events: FsEvent[] = [sampleEvent(nextEventBase), sampleEvent(nextEventBase + 1)];
    nextEventBase += 1_000_000;
    const seq = await log.append(events);
    const durable = await log.commit();
    round.ops.set(0, { count: events.length, fp: fingerprint(events), seq, durable });
    await log.close();
  } finally {
    await vol.dev.close();
  }
  await checkLog(fs, round, tally);
}

async function freshFilesystem(tally: Tally): Promise<Filesystem> {
  tally.filesystems++;
  const path = join(scratch.dir, `fs${filesystemsMade++}.img`);
  const dev = await openFileDevice(path, { createBytes: DEVICE_BYTES });
  try {
    await mkfs(dev, { quorumCount: 1, logSlots: 2, logBlocksPerSlot: LOG_BLOCKS });
  } finally {
    await dev.close();
  }
  const { txns, stop, usedBlocks } = await readLog(path);
  assert.is(txns.length, 1, 'mkfs commits one transaction');
  const seen = txns.map((t) => ({ seq: t.seq, lsn: t.lsn, fp: fingerprint(t.events) }));
  return { path, seen, lastSeq: txns[0]!.seq, stop, usedBlocks };
}

async function readLog(
  path: string,
): Promise<{ txns: Transaction[]; stop: LogStop | null; usedBlocks: number }> {
  const vol = await openVolume(path, { readOnly: true, triggers: new Triggers() });
  try {
    const cursor = await LogCursor.atTail(vol, 0);
    const txns = await cursor.readAll();
    return { txns, stop: cursor.stop, usedBlocks: cursor.position.usedBlocks };
  } finally {
    await vol.dev.close();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A crash-child process whose output must be whole lines (each one write(2) to a pipe). */
class Child extends CrashProcess {
  constructor(triggers: string | undefined) {
    super(CHILD, triggers);
  }

  go(line: string): void {
    this.send(line);
  }

  override lines(): string[] {
    assert.ok(
      this.stdout.endsWith('\n') || this.stdout === '',
      `child output ends in a partial line: ${this.stdout.slice(-200)}`,
    );
    return super.lines();
  }

  said(what: string): boolean {
    return this.stdout.startsWith(`${what} `) || this.stdout.includes(`\n${what} `);
  }
}
test.run();
