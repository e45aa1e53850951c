/*
 * The process's peak resident set size so far, in bytes: VmHWM from /proc/self/status.
 *
 * It counts every page the process ever had resident at once, V8 heap, Buffers outside it and
 * the loader's code alike, which is what a machine has to provide. Not getrusage's ru_maxrss:
 * Linux carries that across exec, so a child forked from a big parent starts with the parent's
 * peak. VmHWM belongs to the address space, which exec replaces, so a child's starts at zero
 * and a phase measured on its own runs in a child.
 */

import { readFileSync } from 'node:fs';

export function peakRss(): number {
  const kb = /^VmHWM:\s*(\d+)\s*kB$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
  return kb === undefined ? process.resourceUsage().maxRSS * 1024 : Number(kb) * 1024;
}
