/*
 * Plain-text tables and number formats for bench reports.
 *
 * The first column is a label and is left-aligned; every other column is right-aligned so
 * figures line up by their last digit. No colours and no box drawing: the output is meant to be
 * pasted into an issue as it is.
 */

export function table(head: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!)))
      .join('  ')
      .trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [line(head), rule, ...rows.map(line)].join('\n');
}

/** A whole number with thousands separators: 12,345. */
export function int(n: number): string {
  return Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '-';
}

/** `a` as a multiple of `b`: 0.92x. */
export function times(a: number, b: number): string {
  return b > 0 ? `${(a / b).toFixed(2)}x` : '-';
}

export function millis(n: number): string {
  return Number.isFinite(n) ? n.toFixed(n < 10 ? 2 : 1) : '-';
}

export function bytes(n: number): string {
  if (n >= 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${Math.round(n)} B`;
}
