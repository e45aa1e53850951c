/*
 * The test runner: every test file in its own process, one after another, then one summary.
 *
 * Each file is an uvu program (node --import tsx FILE); isolation means a crash test's child
 * processes, a mount, or a loop device cannot leak into the next file. The last line is
 * "N passed, N failed", counted from uvu's totals; a file that dies without printing its totals
 * counts as one failure. Arguments narrow the run to files whose path contains any of them.
 */

import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const ROOT = join(import.meta.dirname, '..');
const FILE_TIMEOUT_MS = 10 * 60 * 1000;

const filters = process.argv.slice(2);
const files = listTests(join(ROOT, 'test')).filter(
  (f) => filters.length === 0 || filters.some((x) => f.includes(x)),
);

let passed = 0;
let failed = 0;
for (const file of files) {
  const started = Date.now();
  const r = await runFile(file);
  passed += r.passed;
  failed += r.failed;
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  process.stdout.write(
    `${r.failed ? 'FAIL' : 'ok  '} ${relative(ROOT, file)}  ${r.passed} passed, ${r.failed} failed (${secs}s)\n`,
  );
  if (r.failed) process.stdout.write(indent(r.output));
}
process.stdout.write(`${passed} passed, ${failed} failed\n`);
process.exitCode = failed > 0 || files.length === 0 ? 1 : 0;

function listTests(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) return listTests(p);
      return name.endsWith('.test.ts') ? [p] : [];
    });
}

function runFile(file: string): Promise<{ passed: number; failed: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', file], {
      cwd: ROOT,
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => {
      output += d;
    });
    child.stderr.on('data', (d) => {
      output += d;
    });
    const timer = setTimeout(() => {
      output += `\n[test runner] ${relative(ROOT, file)} timed out after ${FILE_TIMEOUT_MS / 1000}s; killed\n`;
      child.kill('SIGKILL');
    }, FILE_TIMEOUT_MS);
    child.on('close', (code) => {
      clearTimeout(timer);
      const total = Number(/Total:\s+(\d+)/.exec(output)?.[1] ?? Number.NaN);
      const ok = Number(/Passed:\s+(\d+)/.exec(output)?.[1] ?? Number.NaN);
      if (Number.isNaN(total) || Number.isNaN(ok)) {
        resolve({
          passed: 0,
          failed: 1,
          output: `${output}\n[test runner] exited with ${code} without a summary\n`,
        });
        return;
      }
      // uvu's Total does not count skipped tests
      const bad = total - ok;
      resolve({ passed: ok, failed: bad > 0 || code === 0 ? bad : 1, output });
    });
  });
}

function indent(s: string): string {
  return `${s
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n')}\n`;
}
