/*
 * V8 flags for a process that serves a mount (the background process `scoutfs mount` starts).
 *
 * A serving process allocates short-lived objects at a high rate (every operation decodes,
 * folds and encodes items), and V8 grows the young generation's semi-spaces up to 16 MiB each
 * under that load, pages that then stay resident. 4 MiB semi-spaces cost no measurable
 * throughput here and keep about 40 MB less resident (measured with the scale benchmark's
 * build, which runs with the same flags). The old generation is not capped: every cache the
 * filesystem keeps has its own bound.
 */

export const SERVER_V8_FLAGS: readonly string[] = ['--max-semi-space-size=4'];
