/*
 * A child process of a crash test: started ahead of its round with its faults armed
 * (SCOUTFS_TRIGGERS), told to go with one line on stdin, and watched through its stdout until
 * the test kills it or it kills itself. Every child started is tracked, so a test's `after`
 * can kill whatever is still running, also when an assertion failed.
 */

import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';

const live = new Set<CrashProcess>();

/** Kill every crash child still running. */
export async function killAllChildren(): Promise<void> {
  await Promise.all([...live].map((c) => c.kill()));
}

export class CrashProcess {
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  dead = false;
  stdout = '';
  stderr = '';
  private readonly proc: ChildProcessWithoutNullStreams;
  private changed: () => void = () => {};

  constructor(
    script: string,
    readonly triggers: string | undefined,
  ) {
    const env = { ...process.env, SCOUTFS_TRIGGERS: triggers ?? '' };
    this.proc = spawn(process.execPath, ['--import', 'tsx', script], { env });
    live.add(this);
    this.proc.stdin.on('error', () => {});
    this.proc.stdout.setEncoding('utf8').on('data', (d: string) => {
      this.stdout += d;
      this.changed();
    });
    this.proc.stderr.on('data', (d) => {
      this.stderr += d;
    });
    this.exited = new Promise((resolve) => {
      this.proc.on('close', (code, signal) => {
        this.dead = true;
        live.delete(this);
        this.changed();
        resolve({ code, signal });
      });
    });
  }

  send(line: string): void {
    this.proc.stdin.write(`${line}\n`);
  }

  /** The complete lines said so far (a line cut by the kill is left out). */
  lines(): string[] {
    const all = this.stdout.split('\n');
    all.pop();
    return all;
  }

  /** Wait until `done()` holds, the child changes nothing more, or `ms` pass; returns done(). */
  async until(done: () => boolean, ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (!done() && Date.now() < deadline) {
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.changed = resolve;
        timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
      });
      clearTimeout(timer);
    }
    return done();
  }

  output(): string {
    return `${this.stdout.slice(-2000)}\n${this.stderr}`;
  }

  async kill(): Promise<void> {
    if (!this.dead) this.proc.kill('SIGKILL');
    await this.exited;
  }
}
