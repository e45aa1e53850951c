/*
 * Wall-clock time with nanoseconds, for the times the deciders record in events.
 */

import type { Timespec } from '../events/event.js';

const HR_BASE = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();

export function now(): Timespec {
  const ns = HR_BASE + process.hrtime.bigint();
  return { sec: Number(ns / 1_000_000_000n), nsec: Number(ns % 1_000_000_000n) };
}
