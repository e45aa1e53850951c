/*
 * Test helpers for the command line: build the CLI, run the real `node bin/scoutfs.js ...` as a
 * child process and collect what it printed, or start a long-running one (events --follow) and
 * read its lines as they arrive.
 *
 * Every child is killed when its test is done with it (stop() or kill()), and any still running
 * when the test process exits is killed then, so a failed assertion never leaves one behind.
 */

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import * as assert from 'uvu/assert';

export const ROOT = join(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'scoutfs.js');
const RUN_TIMEOUT_MS = 30_000;

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Compile src/ and cli/ to dist/ (npm run build), so the tests run the CLI as installed. */
export function buildCli(): void {
  try {
    execFileSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'pipe' });
  } catch (err) {
    const e = err as { stdout?: Buffer; stderr?: Buffer };
    throw new Error(`npm run build failed:\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
}

/** Run `scoutfs ARGS...` to completion. */
export function scoutfs(...args: string[]): Promise<CliResult> {
  return runNode([BIN, ...args]);
}

/** Run a TypeScript script (a test helper) in its own node process, through tsx. */
export function runScript(script: string, ...args: string[]): Promise<CliResult> {
  return runNode(['--import', 'tsx', script, ...args]);
}

/** A failure the CLI explained: this exit code, a message matching `pattern`, no stack trace. */
export function assertRefused(r: CliResult, code: number, pattern: RegExp): void {
  assert.is(r.code, code, `exit code (stderr: ${r.stderr})`);
  assert.match(r.stderr, pattern);
  assert.not.match(r.stderr, /\n\s+at /, 'no stack trace');
  assert.not.match(r.stderr, /internal error/, 'not an internal error');
}

/** A running `scoutfs` whose stdout is split into lines as they come. */
export class CliProcess {
  readonly lines: string[] = [];
  stderr = '';
  private partial = '';
  private readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private waiters: (() => void)[] = [];

  constructor(private readonly child: ChildProcess) {
    running.add(child);
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (d: string) => {
      const parts = (this.partial + d).split('\n');
      this.partial = parts.pop()!;
      this.lines.push(...parts);
      this.wake();
    });
    child.stderr!.on('data', (d) => {
      this.stderr += d;
    });
    this.exited = new Promise((resolve) => {
      child.on('close', (code, signal) => {
        running.delete(child);
        this.wake();
        resolve({ code, signal });
      });
    });
  }

  get alive(): boolean {
    return running.has(this.child);
  }

  /** The first line (from `from` on) that satisfies `pred`; rejects after `timeoutMs`. */
  async waitForLine(pred: (line: string) => boolean, timeoutMs: number, from = 0): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.lines.slice(from).find(pred);
      if (hit !== undefined) return hit;
      const left = deadline - Date.now();
      if (left <= 0 || !this.alive) {
        throw new Error(
          `no matching line within ${timeoutMs} ms (alive: ${this.alive}); ` +
            `stdout: ${JSON.stringify(this.lines)}, stderr: ${JSON.stringify(this.stderr)}`,
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Send `signal` and wait for the exit, killing outright if it takes longer than `timeoutMs`. */
  async stop(
    signal: NodeJS.Signals = 'SIGTERM',
    timeoutMs = 5000,
  ): Promise<{ code: number | null; signal: NodeJS.Signals | null; timedOut: boolean }> {
    if (this.alive) this.child.kill(signal);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      this.exited.then(() => false),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    if (timedOut) this.kill();
    return { ...(await this.exited), timedOut };
  }

  kill(): void {
    if (this.alive) this.child.kill('SIGKILL');
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}

/** Start `scoutfs ARGS...` and return at once. */
export function startScoutfs(...args: string[]): CliProcess {
  return new CliProcess(
    spawn(process.execPath, [BIN, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] }),
  );
}

function runNode(args: string[]): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`node ${args.join(' ')} did not finish within ${RUN_TIMEOUT_MS} ms`));
    }, RUN_TIMEOUT_MS);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      running.delete(child);
      resolve({ code, signal, stdout, stderr });
    });
  });
}
