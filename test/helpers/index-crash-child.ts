/*
 * The child process of the index crash test (test/lsm/crash.test.ts).
 *
 *   node --import tsx test/helpers/index-crash-child.ts, then one JSON line on stdin:
 *   {"path", "seed", "round", "checkpointEvery", "awaitCheckpoint", "maxOps"}
 *
 * The parent starts it ahead of time, so loading its modules overlaps the previous round, and
 * sends the line when the device is free. It opens the file-backed filesystem (with any faults
 * armed in SCOUTFS_TRIGGERS; a fault that kills the device kills the process on the spot with
 * SIGKILL, as a power cut would), opens the index with a tiny memtable so flushes and
 * compactions run all the time, opens slot 1's log for writing, and feeds every committed
 * transaction into the index, as a mount does. Then it commits one to three operations at a
 * time, one commit after another, and takes a checkpoint every `checkpointEvery` commits, in the
 * background while the next commits go on (or waiting for it, with `awaitCheckpoint`), until
 * it is killed.
 *
 * The operations of a round (`roundOps`) are a deterministic function of the round, so the
 * parent can regenerate them: the first makes the round's own directory under the root, the
 * rest are random namespace operations (NamespaceModel) inside it, with the model's inode
 * numbers moved to the round's own range. Every operation also sets the xattr `user.op` of the
 * round's directory to its index, in the same transaction, so the index says exactly which
 * prefix of the round's operations it holds.
 *
 * It tells the parent everything on stdout, one line per fact, each written before the next
 * step (pipe writes are synchronous and never torn):
 *
 *   ready LAST_SEQ                    the index and the log are open; LAST_SEQ was folded in
 *   w KIND PHASE BLOCK BLOCKS         a device write is about to be issued. KIND: log, root,
 *                                     manifest, run or other; PHASE: C when the index's current
 *                                     manifest has a compaction pending (so a meta write is the
 *                                     compaction's), F otherwise
 *   acked OP SEQ                      commit() resolved: operations up to OP are durable in SEQ
 *   ckpt-start N                      checkpoint N was asked for
 *   ckpt-end N GENERATION LAST_SEQ    it resolved; the manifest is durable at GENERATION
 *   done                              maxOps operations were committed; it idles until killed
 *   failed MESSAGE                    something threw; it idles until killed
 */

import type { BlockDevice } from '../../src/device/device.js';
import type { FsEvent } from '../../src/events/event.js';
import { LogWriter } from '../../src/events/log-writer.js';
import { LocalSeqAuthority } from '../../src/events/seq-authority.js';
import {
  BLOCK_SIZE,
  blockHeader,
  INDEX_ROOT_BLOCKS,
  MAGIC,
  type Superblock,
} from '../../src/format/layout.js';
import type { Manifest } from '../../src/lsm/manifest.js';
import { Store } from '../../src/node/store.js';
import { openVolume } from '../../src/volume/volume.js';
import { firstLine } from './child-stdin.js';
import { NamespaceModel } from './namespace-model.js';
import { rng } from './rng.js';

export interface RoundSpec {
  path: string;
  seed: number;
  /** Global round number: the round's directory and inode numbers derive from it. */
  round: number;
  checkpointEvery: number;
  /** Wait for each checkpoint before the next commit (so most writes are the index's). */
  awaitCheckpoint: boolean;
  maxOps: number;
}

const MEMTABLE_BYTES = 16 * 1024;
const ROOT_INO = 1;
const INOS_PER_ROUND = 1_000_000;
export const MARKER_XATTR = Buffer.from('user.op');

/** The round's own directory. */
export const roundDir = (round: number) => (round + 1) * INOS_PER_ROUND;

/**
 * The operations of a round, in order: the round's directory, then random operations inside
 * it. Each is the event list of one append; each ends by setting the marker to its index.
 */
export function* roundOps(seed: number, round: number): Generator<FsEvent[]> {
  const dir = roundDir(round);
  const model = new NamespaceModel(rng(seed));
  const ino = (n: number) => (n === ROOT_INO ? dir : dir + n);
  const marker = (op: number): FsEvent => ({
    type: 'XattrSet',
    ino: dir,
    name: MARKER_XATTR,
    value: Buffer.from(String(op)),
    ctime: { sec: 1_700_000_000 + op, nsec: 0 },
  });
  const time = { sec: 1_700_000_000, nsec: round };
  yield [
    { type: 'InodeCreated', ino: dir, mode: 0o040755, uid: 0, gid: 0, rdev: 0, time },
    {
      type: 'DirentAdded',
      dir: ROOT_INO,
      name: Buffer.from(`round${round}`),
      ino: dir,
      dtype: 4,
      pos: round + 1,
      time,
    },
    marker(0),
  ];
  for (let op = 1; ; op++) {
    const events = model.step().map((e): FsEvent => {
      if (e.type === 'InodesReserved') return e;
      if (e.type === 'DirentAdded' || e.type === 'DirentRemoved')
        return { ...e, dir: ino(e.dir), ino: ino(e.ino) };
      return { ...e, ino: ino(e.ino) };
    });
    yield [...events, marker(op)];
  }
}

/** Whether the compaction that follows a flush to this manifest still has work to do. */
export function compactionPending(m: Manifest): boolean {
  return m.runs.length >= 2 && m.runs[0]!.items >= m.runs[1]!.items;
}

async function main(): Promise<void> {
  const spec = JSON.parse(await firstLine()) as RoundSpec;
  const vol = await openVolume(spec.path, { onDeath: () => process.kill(process.pid, 'SIGKILL') });
  let store: Store | null = null;
  const traced = { dev: new TracingDevice(vol.dev, vol.sb, () => store?.lsm.manifest ?? null), sb: vol.sb };
  store = await Store.open(traced, { memtableBytes: MEMTABLE_BYTES });
  const writer = await LogWriter.open(traced, 1, new LocalSeqAuthority(store.lastSeq));
  let failed = false;
  const fail = (err: Error) => {
    if (!failed) say(`failed ${(err.stack ?? err.message).replaceAll('\n', ' | ')}`);
    // the parent kills us; stdin keeps the process alive until then
    failed = true;
  };
  const s = store;
  writer.committed$.subscribe((t) => {
    s.apply(t).catch(fail);
  });
  say(`ready ${store.lastSeq}`);

  const r = rng(spec.seed ^ 0x5bd1e995);
  const ops = roundOps(spec.seed, spec.round);
  let checkpoints = 0;
  let checkpointing = false;
  try {
    let op = 0;
    for (let commits = 1; op < spec.maxOps && !failed; commits++) {
      const n = 1 + r.int(3);
      for (let i = 0; i < n; i++) await writer.append(ops.next().value as FsEvent[]);
      op += n;
      const seq = await writer.commit();
      say(`acked ${op - 1} ${seq}`);
      if (commits % spec.checkpointEvery === 0 && !checkpointing) {
        const id = ++checkpoints;
        checkpointing = true;
        say(`ckpt-start ${id}`);
        const done = s.checkpoint().then(() => {
          checkpointing = false;
          const m = s.lsm.manifest;
          say(`ckpt-end ${id} ${m.generation} ${m.lastSeq}`);
        }, fail);
        if (spec.awaitCheckpoint) await done;
      }
    }
    if (!failed) say('done');
  } catch (err) {
    fail(err as Error);
  }
}

/**
 * Says what every write is before passing it on: which structure (from its place and magic)
 * and whether the index is compacting.
 */
class TracingDevice implements BlockDevice {
  constructor(
    private readonly inner: BlockDevice,
    private readonly sb: Superblock,
    private readonly manifest: () => Manifest | null,
  ) {}

  get name(): string {
    return this.inner.name;
  }

  get size(): number {
    return this.inner.size;
  }

  read(offset: number, length: number, into?: Buffer): Promise<Buffer> {
    return this.inner.read(offset, length, into);
  }

  write(offset: number, data: Buffer): Promise<void> {
    const block = offset / BLOCK_SIZE;
    const m = this.manifest();
    const phase = m && compactionPending(m) ? 'C' : 'F';
    say(`w ${this.kind(block, data)} ${phase} ${block} ${data.length / BLOCK_SIZE}`);
    return this.inner.write(offset, data);
  }

  sync(): Promise<void> {
    return this.inner.sync();
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  private kind(block: number, data: Buffer): string {
    const { logStart, metaStart, metaBlocks } = this.sb;
    if (block >= logStart && block < metaStart) return 'log';
    if (block >= metaStart && block < metaStart + INDEX_ROOT_BLOCKS) return 'root';
    if (block < metaStart || block >= metaStart + metaBlocks) return 'other';
    const magic = blockHeader.decode(data, 0).magic;
    return magic === MAGIC.manifest ? 'manifest' : 'run';
  }
}

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

// the test imports from here; only a run as a process commits (last: the class above must exist)
if (process.argv[1] === import.meta.filename) await main();
