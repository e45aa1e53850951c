/*
 * Binary search over sorted arrays: the first index whose element is not below the target.
 */

export function lowerBound<T, K>(
  items: readonly T[],
  target: K,
  compare: (item: T, target: K) => number,
): number {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compare(items[mid]!, target) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
