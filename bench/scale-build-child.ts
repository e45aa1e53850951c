/*
 * The build of the scale benchmark in a process of its own, with the V8 heap capped (see
 * BUILD_HEAP_MIB in scale-bench.ts), so its peak RSS is the store's working set and not garbage
 * that V8 lets pile up to its default heap limit before collecting.
 *
 * Takes {path, inodes, changes, store} as JSON in its one argument, sends progress notes and
 * then the BuildResult (or the error's message) to the parent over the IPC channel.
 */

import type { StoreOptions } from '../src/node/store.js';
import { buildVolumeThroughFs } from './scale-build.js';
import { treeOf } from './scale-tree.js';

interface Input {
  path: string;
  inodes: number;
  changes: number;
  store: StoreOptions;
}

const send = (m: unknown) => new Promise<void>((resolve) => process.send!(m, () => resolve()));

try {
  const input = JSON.parse(process.argv[2] ?? '') as Input;
  const result = await buildVolumeThroughFs(
    input.path,
    treeOf(input.inodes),
    input.changes,
    input.store,
    (line) => process.send!({ note: line }),
  );
  await send({ ok: true, result });
} catch (err) {
  await send({ ok: false, error: (err as Error).stack ?? String(err) });
  process.exitCode = 1;
}
