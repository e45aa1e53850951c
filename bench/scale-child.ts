/*
 * The child process of the scale benchmark: probes the built volume in a process of its own,
 * so its peak RSS is the reopen's and the walks', not the build's.
 *
 * Takes the ProbeInput as JSON in its one argument and sends the ProbeResult (or the error's
 * message) back to the parent over the IPC channel `fork` opens.
 */

import { type ProbeInput, probeVolume } from './scale-probe.js';

const send = (m: unknown) => new Promise<void>((resolve) => process.send!(m, () => resolve()));

try {
  const input = JSON.parse(process.argv[2] ?? '') as ProbeInput;
  await send({ ok: true, result: await probeVolume(input) });
} catch (err) {
  await send({ ok: false, error: (err as Error).stack ?? String(err) });
  process.exitCode = 1;
}
