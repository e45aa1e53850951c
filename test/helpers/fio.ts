/*
 * fio, as a test runs it: one invocation with JSON output, and the checks that its data
 * verification really ran and found nothing.
 *
 * fio exits non-zero when a job fails; with --verify_fatal=1 a bad block ends its job at once
 * and fio prints what it found ("verify: bad magic header", "crc32c: verify failed") on stderr.
 * A job also records its error in the JSON report. Checking the bytes each job read back makes
 * sure the verify phase did not silently do nothing.
 */

import { execFile } from 'node:child_process';
import * as assert from 'uvu/assert';

const FIO_TIMEOUT_MS = 120_000;

export interface FioJob {
  jobname: string;
  error: number;
  read: { io_bytes: number };
  write: { io_bytes: number };
}

export interface FioRun {
  code: number;
  stderr: string;
  jobs: FioJob[];
}

/** Run fio with `args` (in `cwd`, where it may leave files) and parse its JSON report. */
export function fio(cwd: string, args: string[]): Promise<FioRun> {
  return new Promise((resolve, reject) => {
    execFile(
      'fio',
      ['--output-format=json', ...args],
      { cwd, timeout: FIO_TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' },
      (err, stdout, stderr) => {
        const e = err as (Error & { code?: number | string }) | null;
        if (e && typeof e.code !== 'number') {
          reject(new Error(`fio did not run: ${e.message}\n${stderr}`));
          return;
        }
        // fio prints notes before the JSON object when something went wrong
        const json = stdout.slice(stdout.indexOf('{'));
        let jobs: FioJob[] = [];
        try {
          jobs = (JSON.parse(json) as { jobs: FioJob[] }).jobs;
        } catch {
          // left empty: the assertions below say what fio printed
        }
        resolve({
          code: e ? Number(e.code) : 0,
          stderr: stderr + stdout.slice(0, stdout.indexOf('{')),
          jobs,
        });
      },
    );
  });
}

/**
 * fio succeeded, no job failed, nothing mentions a verify failure, and every job read back at
 * least `verifiedBytes` (its whole file: the verify phase covered it).
 */
export function assertFioVerified(r: FioRun, jobs: number, verifiedBytes: number, what: string): void {
  const detail = `${what}: fio exit ${r.code}\n${r.stderr}`;
  assert.is(r.code, 0, detail);
  assert.not.match(r.stderr, /verify|bad magic|crc32c|corrupt/i, detail);
  assert.is(r.jobs.length, jobs, `${what}: jobs reported`);
  for (const j of r.jobs) {
    assert.is(j.error, 0, `${what}: job ${j.jobname} error ${j.error}`);
    assert.ok(
      j.read.io_bytes >= verifiedBytes,
      `${what}: job ${j.jobname} verified ${j.read.io_bytes} bytes, expected at least ${verifiedBytes}`,
    );
  }
}
