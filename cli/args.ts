/*
 * Parsing of CLI argument values, with usage errors that say what was expected.
 */

import { InvalidArgumentError } from 'commander';

const UNITS: Record<string, number> = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

/** "2G", "512M", "65536": a byte count with an optional binary unit suffix. */
export function parseSize(value: string): number {
  const m = /^(\d+)([KMGT]?)(i?B)?$/i.exec(value.trim());
  const unit = UNITS[(m?.[2] ?? '').toUpperCase()];
  if (!m || unit === undefined)
    throw new InvalidArgumentError(`"${value}" is not a size (e.g. 2G, 512M, 1048576)`);
  const n = Number(m[1]) * unit;
  if (!Number.isSafeInteger(n)) throw new InvalidArgumentError(`"${value}" is too large`);
  return n;
}

/** A non-negative integer; `-1` means "the largest", as in walk-inodes. */
export function parseUint(value: string): number {
  if (value === '-1') return Number.MAX_SAFE_INTEGER;
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError(`"${value}" is not a non-negative integer`);
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new InvalidArgumentError(`"${value}" is too large`);
  return n;
}

export function intIn(lo: number, hi: number): (value: string) => number {
  return (value) => {
    const n = parseUint(value);
    if (n < lo || n > hi) throw new InvalidArgumentError(`must be between ${lo} and ${hi}`);
    return n;
  };
}
