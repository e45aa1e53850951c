/*
 * A bench phase in a process of its own: the parent forks a script with its input as JSON in
 * the one argument and waits for one answer over IPC; the child may send progress notes first.
 *
 * The mount benchmark drives every workload this way, so the syscalls that block on a FUSE
 * mount never run in the process that set the mounts up, and a hung one can be killed without
 * losing the means to unmount. Messages: { note } any number of times, then { ok, result } or
 * { ok: false, error }. A child that exits without answering is an error.
 */

import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

type Message<R> = { note: string } | { ok: true; result: R } | { ok: false; error: string };

/** Fork `script` (a .ts file next to this one runs under the same tsx) and await its answer. */
export function callChild<R>(
  script: URL,
  input: unknown,
  note: (line: string) => void,
  started: (child: ChildProcess) => void = () => {},
): Promise<R> {
  const child = fork(fileURLToPath(script), [JSON.stringify(input)], { stdio: ['ignore', 2, 2, 'ipc'] });
  started(child);
  return new Promise((resolve, reject) => {
    let answer: Message<R> | null = null;
    child.on('message', (m: Message<R>) => {
      if ('note' in m) note(m.note);
      else answer = m;
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      const a = answer as Message<R> | null;
      if (a && 'ok' in a && a.ok) resolve(a.result);
      else if (a && 'error' in a) reject(new Error(a.error));
      else reject(new Error(`${fileURLToPath(script)} exited with ${signal ?? code} before answering`));
    });
  });
}

/** The child's side: run `work` on the input and send its result (or error) to the parent. */
export async function answerParent<I, R>(
  work: (input: I, note: (line: string) => void) => Promise<R>,
): Promise<void> {
  const send = (m: Message<R>) => new Promise<void>((resolve) => process.send!(m, () => resolve()));
  try {
    const input = JSON.parse(process.argv[2] ?? '') as I;
    await send({ ok: true, result: await work(input, (line) => void send({ note: line })) });
  } catch (err) {
    await send({ ok: false, error: (err as Error).stack ?? String(err) });
    process.exitCode = 1;
  }
}
