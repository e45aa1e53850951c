/*
 * The questions the scale benchmark asks of the built volume, on a fresh open of the device.
 *
 * Reopen: Store.open on a new device handle, which reads the manifest, every run's index and
 * bloom, and replays the log tails after the checkpoint. Walk: `walk-inodes meta_seq S+1 -1`,
 * the scan of the meta_seq index the CLI does, timed on its own and repeated (the first scan
 * reads its run units from the device, later ones may find them in the unit cache). The same
 * question answered without the index, twice: walking the namespace from the root (what a
 * tool without walk-inodes does: readdir every directory, stat every inode), and the cheapest
 * full scan there is, every item of the fs zone in key order keeping the inode items. Every
 * answer must be exactly the changed inodes, or the probe throws.
 */

import { openFileDevice } from '../src/device/file-device.js';
import { decodeInode } from '../src/format/item-schema.js';
import { encodeKey, FS_TYPE, ZONE } from '../src/format/key.js';
import { Store, type StoreOptions } from '../src/node/store.js';
import { walkNamespace } from '../src/projections/namespace.js';
import { indexEntryOf, seqIndexRange } from '../src/projections/seq-index.js';
import { loadVolume } from '../src/volume/volume.js';
import { cpuNow } from './measure.js';
import { peakRss } from './peak-rss.js';

const WALKS = 25;
const MAX = Number.MAX_SAFE_INTEGER;
const FS_ZONE = {
  first: encodeKey(ZONE.fs, 0),
  last: encodeKey(ZONE.fs, MAX, 0xff, MAX, MAX, Buffer.alloc(300, 0xff)),
};

export interface ProbeInput {
  path: string;
  seqBefore: number;
  changed: number[];
  /** Inodes the volume must hold, the root included. */
  inodes: number;
  store: StoreOptions;
}

export interface FullScan {
  ms: number;
  inodes: number;
}

export interface ProbeResult {
  /** Peak RSS before the probe did anything: node, the loader and the modules. */
  baselineRssBytes: number;
  reopenMs: number;
  /** Process CPU time (user + system, all threads) of the reopen and of the first walk. */
  reopenCpuMs: number;
  firstWalkCpuMs: number;
  replayedTransactions: number;
  replayedEvents: number;
  runs: number;
  rssAfterReopenBytes: number;
  /** Each walk's time; the first is the one a fresh mount answers with. */
  walkMs: number[];
  walkEntries: number;
  namespace: FullScan;
  inodeScan: FullScan;
  peakRssAfterWalkBytes: number;
  peakRssBytes: number;
}

export async function probeVolume(input: ProbeInput): Promise<ProbeResult> {
  const baselineRssBytes = peakRss();
  const cpu0 = cpuNow();
  const t0 = performance.now();
  const dev = await openFileDevice(input.path);
  const vol = await loadVolume(dev);
  const store = await Store.open(vol, input.store);
  const reopenMs = performance.now() - t0;
  const reopenCpuMs = cpuNow() - cpu0;
  const rssAfterReopenBytes = peakRss();
  const expected = [...input.changed].sort((a, b) => a - b);
  try {
    const walkMs: number[] = [];
    let walkEntries = 0;
    let firstWalkCpuMs = 0;
    for (let i = 0; i < WALKS; i++) {
      const cpu = cpuNow();
      const t = performance.now();
      const found: number[] = [];
      for await (const [key] of store.lsm.scan(seqIndexRange('meta_seq', input.seqBefore + 1, MAX))) {
        found.push(indexEntryOf(key).ino);
      }
      walkMs.push(performance.now() - t);
      if (i === 0) firstWalkCpuMs = cpuNow() - cpu;
      // index order is (seq, ino); the comparison is of sets
      same(
        'walk-inodes meta_seq',
        found.sort((a, b) => a - b),
        expected,
      );
      walkEntries = found.length;
    }
    const peakRssAfterWalkBytes = peakRss();

    const changedIn = async (pairs: AsyncIterable<{ ino: number; metaSeq: number }>) => {
      const t = performance.now();
      const found: number[] = [];
      let inodes = 0;
      for await (const i of pairs) {
        inodes += 1;
        if (i.metaSeq > input.seqBefore) found.push(i.ino);
      }
      return { ms: performance.now() - t, inodes, found: found.sort((a, b) => a - b) };
    };
    const ns = await changedIn(namespaceInodes(store, vol.sb.rootIno));
    same('namespace walk', ns.found, expected);
    const scan = await changedIn(fsZoneInodes(store));
    same('fs zone scan', scan.found, expected);
    for (const [what, n] of [
      ['namespace walk', ns.inodes],
      ['fs zone scan', scan.inodes],
    ] as const) {
      if (n !== input.inodes) throw new Error(`${what} found ${n} inodes, expected ${input.inodes}`);
    }
    return {
      baselineRssBytes,
      reopenMs,
      reopenCpuMs,
      firstWalkCpuMs,
      replayedTransactions: store.replayed.transactions,
      replayedEvents: store.replayed.events,
      runs: store.lsm.manifest.runs.length,
      rssAfterReopenBytes,
      walkMs,
      walkEntries,
      namespace: { ms: ns.ms, inodes: ns.inodes },
      inodeScan: { ms: scan.ms, inodes: scan.inodes },
      peakRssAfterWalkBytes,
      peakRssBytes: peakRss(),
    };
  } finally {
    await store.close();
    await dev.close();
  }
}

async function* namespaceInodes(store: Store, rootIno: number) {
  for await (const { inode } of walkNamespace(store.lsm, rootIno)) yield inode;
}

async function* fsZoneInodes(store: Store) {
  for await (const [key, value] of store.lsm.scan(FS_ZONE)) {
    if (key[9] === FS_TYPE.inode) yield decodeInode(value, 'inode');
  }
}

function same(what: string, found: number[], expected: number[]): void {
  const ok = found.length === expected.length && found.every((ino, i) => ino === expected[i]);
  if (!ok) {
    const want = new Set(expected);
    const got = new Set(found);
    const extra = found.filter((x) => !want.has(x)).slice(0, 5);
    const missing = expected.filter((x) => !got.has(x)).slice(0, 5);
    throw new Error(
      `${what} returned ${found.length} inodes, expected exactly the ${expected.length} changed ` +
        `(extra: ${extra.join(',') || '-'}; missing: ${missing.join(',') || '-'})`,
    );
  }
}
