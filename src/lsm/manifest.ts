/*
 * The manifest: which runs make up the index, and which log positions they cover.
 *
 * A manifest is written copy-on-write as a unit in free meta space, then made current by
 * writing the index root (two copies at the start of the meta region, the older one
 * overwritten with the next generation, like the superblock). A crash at any point leaves
 * either the old root pointing at the old manifest, whose runs are all still in place, or the
 * new root pointing at the new one: never a mix.
 *
 * The checkpoint says, for every node slot, the log position after the last transaction whose
 * effects are in the runs: an open replays each log from there, and only from there.
 */

import { readBlocks, writeBlocks } from '../device/device.js';
import { EIO } from '../errors.js';
import { BLOCK_HEADER_BYTES, sealBlock } from '../format/block.js';
import { cborDecode, cborEncode } from '../format/cbor.js';
import { BLOCK_SIZE, INDEX_ROOT_BLOCKS, type IndexRoot, indexRoot, MAGIC } from '../format/layout.js';
import { openUnit, sealUnit, unitBlocks } from '../format/unit.js';
import { describeProblems, newest, type PairSpec, readPair, writePair } from '../volume/block-pair.js';
import type { Volume } from '../volume/volume.js';
import type { Allocator, Extent } from './allocator.js';
import type { RunMeta } from './run.js';

export interface SlotCheckpoint {
  lsn: number;
  block: number;
  seq: number;
  /** Writer epoch of the record before the position (see format/record.ts). */
  epoch: number;
}

export interface Manifest {
  generation: number;
  /** Newest first: a key found in an earlier run hides it in later ones. */
  runs: RunMeta[];
  checkpoint: SlotCheckpoint[];
  /** Highest seq whose effects the runs hold. */
  lastSeq: number;
  nextRunId: number;
  /** Where this manifest itself lives. */
  extent: Extent;
}

const RUN_FIELDS = [
  'id',
  'start',
  'blocks',
  'indexBlock',
  'bloomBlock',
  'items',
  'minSeq',
  'maxSeq',
] as const;

export const metaDataStart = (vol: Volume) => vol.sb.metaStart + INDEX_ROOT_BLOCKS;

export async function readManifest(vol: Volume): Promise<Manifest> {
  const root = await readIndexRoot(vol);
  const buf = await readBlocks(vol.dev, root.manifestBlock, root.manifestBlocks);
  const what = `manifest generation ${root.generation}`;
  const { payload, seq } = openUnit(buf, {
    magic: MAGIC.manifest,
    fsid: vol.sb.fsid,
    blkno: root.manifestBlock,
    what,
  });
  if (seq !== root.generation) throw EIO(`${what} (block ${root.manifestBlock}) is generation ${seq}`);
  return decodeManifest(payload, root, what);
}

/**
 * Write `next` as the new current manifest (generation = old + 1) and return it; the caller
 * releases the old manifest's extent and any runs it dropped, now that nothing durable uses them.
 */
export async function writeManifest(
  vol: Volume,
  alloc: Allocator,
  prev: Manifest,
  next: Omit<Manifest, 'generation' | 'extent'>,
): Promise<Manifest> {
  const generation = prev.generation + 1;
  const payload = encodeManifest(next);
  const extent = alloc.alloc(unitBlocks(payload.length), `manifest ${generation}`);
  try {
    await writeBlocks(
      vol.dev,
      extent.start,
      sealUnit({ magic: MAGIC.manifest, fsid: vol.sb.fsid, seq: generation, blkno: extent.start }, payload),
    );
    await vol.dev.sync();
    await writeIndexRoot(vol, { generation, manifestBlock: extent.start, manifestBlocks: extent.blocks });
  } catch (err) {
    alloc.release(extent);
    throw err;
  }
  return { ...next, generation, extent };
}

/** The first manifest of a new filesystem: no runs, every log to be replayed from its start. */
export async function writeInitialManifest(vol: Volume, checkpoint: SlotCheckpoint[]): Promise<void> {
  const start = metaDataStart(vol);
  const m = { runs: [], checkpoint, lastSeq: 0, nextRunId: 1 };
  const unit = sealUnit(
    { magic: MAGIC.manifest, fsid: vol.sb.fsid, seq: 1, blkno: start },
    encodeManifest(m),
  );
  await writeBlocks(vol.dev, start, unit);
  const root = { generation: 1, manifestBlock: start, manifestBlocks: unit.length / BLOCK_SIZE };
  for (const copy of [0, 1])
    await writeBlocks(vol.dev, vol.sb.metaStart + copy, encodeRoot(vol, root, vol.sb.metaStart + copy));
}

function rootSpec(vol: Volume): PairSpec<IndexRoot> {
  return {
    blocks: [vol.sb.metaStart, vol.sb.metaStart + 1],
    magic: MAGIC.indexRoot,
    fsid: vol.sb.fsid,
    what: 'index root',
    decode: (buf) => indexRoot.decode(buf, BLOCK_HEADER_BYTES),
    generation: (r) => r.generation,
  };
}

async function readIndexRoot(vol: Volume): Promise<IndexRoot> {
  const spec = rootSpec(vol);
  const copies = await readPair(vol.dev, spec);
  const root = newest(spec, copies);
  if (!root) throw EIO(`no usable index root: ${describeProblems(spec, copies)}`);
  return root;
}

async function writeIndexRoot(vol: Volume, root: IndexRoot): Promise<void> {
  await writePair(vol.dev, rootSpec(vol), (_generation, blkno) => encodeRoot(vol, root, blkno));
}

function encodeRoot(vol: Volume, root: IndexRoot, blkno: number): Buffer {
  const buf = Buffer.alloc(BLOCK_SIZE);
  indexRoot.encode(root, buf, BLOCK_HEADER_BYTES);
  return sealBlock(buf, { magic: MAGIC.indexRoot, fsid: vol.sb.fsid, seq: root.generation, blkno });
}

function encodeManifest(m: Omit<Manifest, 'generation' | 'extent'>): Buffer {
  return cborEncode([
    m.runs.map((r) => RUN_FIELDS.map((f) => r[f])),
    m.checkpoint.map((c) => [c.lsn, c.block, c.seq, c.epoch]),
    m.lastSeq,
    m.nextRunId,
  ]);
}

function decodeManifest(payload: Buffer, root: IndexRoot, what: string): Manifest {
  const v = cborDecode(payload);
  const ok = Array.isArray(v) && v.length === 4 && Array.isArray(v[0]) && Array.isArray(v[1]);
  if (!ok) throw EIO(`${what} (block ${root.manifestBlock}) is malformed`);
  const nums = (x: unknown, n: number) =>
    Array.isArray(x) && x.length === n && x.every((y) => Number.isSafeInteger(y));
  if (!v[0].every((r: unknown) => nums(r, RUN_FIELDS.length)) || !v[1].every((c: unknown) => nums(c, 4))) {
    throw EIO(`${what} (block ${root.manifestBlock}) is malformed`);
  }
  return {
    generation: root.generation,
    runs: v[0].map(
      (r: number[]) => Object.fromEntries(RUN_FIELDS.map((f, i) => [f, r[i]])) as unknown as RunMeta,
    ),
    checkpoint: v[1].map(([lsn, block, seq, epoch]: number[]) => ({
      lsn: lsn!,
      block: block!,
      seq: seq!,
      epoch: epoch!,
    })),
    lastSeq: Number(v[2]),
    nextRunId: Number(v[3]),
    extent: { start: root.manifestBlock, blocks: root.manifestBlocks },
  };
}
