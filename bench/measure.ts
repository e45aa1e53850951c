/*
 * Timing for the bench: wall-clock windows, with the process's CPU time alongside.
 *
 * A window runs operations back to back for a fixed wall-clock time (or until `stop` says the
 * thing measured is about to run out, a log nearing full) and keeps each operation's latency
 * for percentiles. It also records the CPU time the process spent (user + system, every thread)
 * so CPU-bound figures can be given per CPU-second: on a machine shared with other work the
 * wall clock of a CPU-bound loop measures the neighbours as much as the code.
 */

export interface Window {
  ops: number;
  ms: number;
  /** Process CPU time (user + system) spent during the window, in ms. */
  cpuMs: number;
  /** Milliseconds per operation, in the order they ran. */
  latencies: number[];
  stoppedEarly: boolean;
}

/** Process CPU time so far, in ms. */
export function cpuNow(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** Run `op(i)` back to back, awaiting each, for `ms` of wall-clock time. */
export async function runFor(
  op: (i: number) => Promise<void>,
  ms: number,
  stop: () => boolean = () => false,
): Promise<Window> {
  const latencies: number[] = [];
  const cpu0 = cpuNow();
  const start = performance.now();
  const end = start + ms;
  let now = start;
  let stoppedEarly = false;
  let i = 0;
  while (now < end) {
    if (stop()) {
      stoppedEarly = true;
      break;
    }
    const t0 = now;
    await op(i++);
    now = performance.now();
    latencies.push(now - t0);
    await yieldSometimes();
  }
  return { ops: latencies.length, ms: now - start, cpuMs: cpuNow() - cpu0, latencies, stoppedEarly };
}

/**
 * Run a synchronous `op(i)`: a fifth of `ms` to warm up, then `ms` timed, `chunk` calls per
 * clock read. It yields to the event loop every few ms so a Ctrl-C is handled (tsx kills a child
 * that does not answer a signal within 60 ms, which would leave the scratch files behind).
 */
export async function runCpu(
  op: (i: number) => void,
  ms: number,
  chunk = 64,
): Promise<{ ops: number; ms: number; cpuMs: number }> {
  let i = 0;
  for (const end = performance.now() + ms / 5; performance.now() < end; ) {
    for (let k = 0; k < chunk; k++) op(i++);
    await yieldSometimes();
  }
  let ops = 0;
  const cpu0 = cpuNow();
  const start = performance.now();
  const end = start + ms;
  let now = start;
  while (now < end) {
    for (let k = 0; k < chunk; k++) op(i++);
    ops += chunk;
    await yieldSometimes();
    now = performance.now();
  }
  return { ops, ms: now - start, cpuMs: cpuNow() - cpu0 };
}

const YIELD_MS = 10;
let lastYield = 0;
let pending: Promise<void> | null = null;

/**
 * Every few ms, a promise that resolves on the next turn of the event loop; otherwise nothing.
 * Loops whose awaits are all microtasks (a CPU loop, a writer whose device discards IO) await it
 * so signals and timers still get handled; concurrent loops share one pending yield, so all of
 * them step aside at once and the event loop really gets its turn.
 */
export function yieldSometimes(): Promise<void> | undefined {
  if (pending) return pending;
  const now = performance.now();
  if (now - lastYield < YIELD_MS) return undefined;
  lastYield = now;
  pending = new Promise((resolve) =>
    setImmediate(() => {
      pending = null;
      resolve();
    }),
  );
  return pending;
}

export function perSecond(count: number, ms: number): number {
  return ms > 0 ? (count * 1000) / ms : 0;
}

/** The p-th percentile (0..100) of `values`, nearest rank. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}
