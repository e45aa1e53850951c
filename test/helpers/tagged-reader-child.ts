/*
 * A reader for test/fuse/read-reuse.test.ts: reads FILE through one O_DIRECT descriptor (every
 * read reaches the mount) for MS milliseconds, sequential passes and random ranges, and checks
 * every byte is
 * 0 (a hole, or past a truncate) or a tag the file's writer uses (1..100), never FOREIGN (the
 * byte another file is written with). Exits 0 with the number of reads and bytes checked, or 1
 * naming the first foreign byte: a read that reached blocks the file no longer had, after they
 * went to another file.
 *
 * Usage: node --import tsx tagged-reader-child.ts FILE MS FOREIGN SEED
 */

import { closeSync, constants, openSync, readSync } from 'node:fs';

const [file = '', msArg = '0', foreignArg = '0', seedArg = '1'] = process.argv.slice(2);
const until = Date.now() + Number(msArg);
const foreign = Number(foreignArg);
let seed = Number(seedArg) >>> 0 || 1;
const rand = (n: number) => {
  seed ^= seed << 13;
  seed >>>= 0;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  seed >>>= 0;
  return seed % n;
};

const buf = Buffer.alloc(1024 * 1024);
let reads = 0;
let bytes = 0;
// one descriptor for the whole run: the binding keeps a read window per open file, and it must
// follow every change made to the file while the descriptor stays open
const fd = openSync(file, constants.O_RDONLY | constants.O_DIRECT);
try {
  while (Date.now() < until) {
    const sequential = rand(2) === 0;
    let at = sequential ? 0 : rand(16 * 1024 * 1024);
    for (let i = 0; i < 64 && Date.now() < until; i++) {
      const len = sequential ? 128 * 1024 : 1 + rand(buf.length);
      const n = readSync(fd, buf, 0, len, at);
      reads++;
      bytes += n;
      for (let k = 0; k < n; k++) {
        const b = buf[k]!;
        if (b === foreign || b > 100) {
          process.stderr.write(`byte ${at + k} of ${file} is ${b}: not one this file was written with\n`);
          process.exit(1);
        }
      }
      if (n === 0) break;
      at = sequential ? at + n : rand(16 * 1024 * 1024);
    }
  }
} finally {
  closeSync(fd);
}
process.stdout.write(`${reads} reads, ${bytes} bytes checked\n`);
