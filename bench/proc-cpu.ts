/*
 * CPU time of another process, from /proc/PID/stat: user + system, every thread it ever had.
 *
 * The mount benchmark charges each phase's CPU to the process serving the mount, read before
 * and after the phase by the process driving it. The figures are in clock ticks (10 ms on
 * Linux), fine for phases that last a second or more. A process that is gone reads as NaN.
 */

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

let msPerTick: number | null = null;

export function processCpuMs(pid: number): number {
  msPerTick ??= 1000 / Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim() || 100);
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return Number.NaN;
  }
  // the command name (field 2) may hold spaces and parentheses: count fields after the last ')'
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * msPerTick;
}
