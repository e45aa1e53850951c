#!/usr/bin/env node
// mount(8)'s helper for `mount -t scoutfs DEV DIR -o OPTS`: runs `scoutfs mount -o OPTS DEV DIR`.
// mount(8) calls it as: mount.scoutfs SPEC DIR [-sfnv] [-N NS] [-o OPTIONS] [-t TYPE].
// Install with `npm run install-mount-helper` (a symlink in /sbin).
import { existsSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';

const args = process.argv.slice(2);
const positional = [];
const options = [];
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === '-o' || a === '-t' || a === '-N') {
    if (a === '-o') options.push(args[i + 1] ?? '');
    i += 1;
  } else if (/^-[sfnvri]+$/.test(a)) {
    if (a.includes('f')) process.exit(0); // -f: fake, do everything but mount
  } else positional.push(a);
}
if (positional.length !== 2) {
  process.stderr.write('usage: mount.scoutfs DEVICE DIR [-o OPTIONS]\n');
  process.exit(2);
}
const main = join(dirname(realpathSync(process.argv[1])), '..', 'dist', 'cli', 'scoutfs.js');
if (!existsSync(main)) {
  process.stderr.write('mount.scoutfs: scoutfs is not built; run `npm run build` in its package directory\n');
  process.exit(1);
}
process.argv = [process.argv[0], main, 'mount', ...options.flatMap((o) => ['-o', o]), ...positional];
await import(main);
