/*
 * Build the CLI only when dist/ is older than its sources.
 *
 * `npm test` builds once before any test file runs; long mount tests that call buildCli() again
 * would spend most of a minute recompiling the same sources. A file run on its own (node
 * --import tsx test/fuse/x.test.ts) after an edit still gets a fresh build.
 */

import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { buildCli, ROOT } from './cli.js';

export function buildCliIfStale(): void {
  const built = join(ROOT, 'dist', 'cli', 'scoutfs.js');
  let builtAt = 0;
  try {
    builtAt = statSync(built).mtimeMs;
  } catch {
    // never built
  }
  const newest = Math.max(newestTs(join(ROOT, 'src')), newestTs(join(ROOT, 'cli')));
  if (newest >= builtAt) buildCli();
}

function newestTs(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestTs(p));
    else if (e.name.endsWith('.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}
