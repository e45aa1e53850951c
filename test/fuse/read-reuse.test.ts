/*
 * Reads on the binding's threads while blocks change hands (patch 6): readers hammer a file
 * through O_DIRECT, sequentially (so the binding answers from its read windows) and at random,
 * while the test truncates the file, commits, and writes another file with a byte the first
 * never holds, over and over on a small volume, so the data space's cursor comes round and the
 * blocks the first file let go are handed to the second. No reader may ever see the second
 * file's byte in the first: that would be a read through a stale mapping (a window of an old
 * generation, or a handed-off read) after the blocks were reused.
 */

import { spawn } from 'node:child_process';
import { truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildCliIfStale } from '../helpers/fresh-build.js';
import { withMount } from '../helpers/mount.js';
import { assertReplayClean } from '../helpers/mount-checks.js';

const MiB = 1024 * 1024;
const READERS = 2;
/** Each file's size: two of them are most of a 64 MiB volume's data space. */
const FILE_BYTES = 8 * MiB;
const DURATION_MS = 20_000;
/** Enough cycles (16 MiB allocated each) for the data space's cursor to come round twice. */
const MIN_CYCLES = 5;
/** The byte of the other file; the first holds tags 1..100 or zeros. */
const FOREIGN = 0xee;
const READER = join(import.meta.dirname, '..', 'helpers', 'tagged-reader-child.ts');

test.before(buildCliIfStale);

interface Reader {
  done: Promise<{ code: number; out: string }>;
  kill(): void;
}

function reader(file: string, ms: number, seed: number): Reader {
  const p = spawn(process.execPath, [
    '--import',
    'tsx',
    READER,
    file,
    String(ms),
    String(FOREIGN),
    String(seed),
  ]);
  let out = '';
  p.stdout.on('data', (d) => {
    out += d;
  });
  p.stderr.on('data', (d) => {
    out += d;
  });
  const done = new Promise<{ code: number; out: string }>((resolve) =>
    p.on('close', (code) => resolve({ code: code ?? 1, out })),
  );
  return { done, kill: () => p.kill('SIGKILL') };
}

test('read reuse - readers never see the bytes of the file a truncated file gave its blocks to', async () => {
  await withMount(
    async (m) => {
      const a = join(m.dir, 'a');
      const b = join(m.dir, 'b');
      writeFileSync(a, Buffer.alloc(FILE_BYTES, 1));
      const readers = Array.from({ length: READERS }, (_, i) => reader(a, DURATION_MS, i + 1));
      const deadline = Date.now() + DURATION_MS;
      let cycles = 0;
      try {
        while (Date.now() < deadline) {
          writeFileSync(a, Buffer.alloc(FILE_BYTES, (cycles % 100) + 1));
          truncateSync(a, 4096 * (cycles % 3));
          const s = await m.cli('sync', m.dir); // the truncated blocks are free from here
          assert.is(s.code, 0, s.stderr);
          writeFileSync(b, Buffer.alloc(FILE_BYTES, FOREIGN));
          unlinkSync(b); // its blocks are free after the next cycle's sync
          cycles++;
        }
        const results = await Promise.all(readers.map((r) => r.done));
        for (const [i, r] of results.entries()) assert.is(r.code, 0, `reader ${i}: ${r.out}`);
        // a 64 MiB volume's data space (36 MiB) comes round every two or three cycles
        assert.ok(cycles >= MIN_CYCLES, `only ${cycles} cycles in ${DURATION_MS} ms`);
        console.log(`read reuse: ${cycles} cycles; ${results.map((r) => r.out.trim()).join('; ')}`);
      } finally {
        for (const r of readers) r.kill();
      }
      await m.unmount();
      await assertReplayClean(m.device, 'the read-reuse volume');
    },
    { size: '64M' },
  );
});

test.run();
