/*
 * Shared output helpers for the CLI: aligned "name: value" blocks and byte strings for humans.
 */

export function printFields(fields: readonly (readonly [string, string])[], indent = '  '): void {
  const width = Math.max(...fields.map(([k]) => k.length)) + 1;
  for (const [k, v] of fields) process.stdout.write(`${indent}${`${k}:`.padEnd(width)} ${v}\n`);
}

/** Bytes as text when they are printable UTF-8, otherwise as escaped bytes; always quoted. */
export function showBytes(b: Uint8Array): string {
  const text = Buffer.from(b).toString('utf8');
  if (
    Buffer.from(text, 'utf8').equals(Buffer.from(b)) &&
    ![...text].some((ch) => ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f)
  )
    return JSON.stringify(text);
  return `"${[...b].map((c) => (c >= 0x20 && c < 0x7f && c !== 0x22 && c !== 0x5c ? String.fromCharCode(c) : `\\x${c.toString(16).padStart(2, '0')}`)).join('')}"`;
}
