#!/usr/bin/env node
// The installed `scoutfs` command: runs the compiled CLI (npm run build makes dist/).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const main = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'cli', 'scoutfs.js');
if (!existsSync(main)) {
  process.stderr.write('scoutfs: not built yet; run `npm run build` in the package directory\n');
  process.exit(1);
}
await import(main);
