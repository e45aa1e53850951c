/*
 * Following a log as it grows: an RxJS stream of the transactions committed to one node's log.
 *
 * A log on a shared device has no notification channel (another host may be writing it), so
 * following is polling: every interval, drain what the cursor can read, emit it, and wait again
 * at the end. `exhaustMap` keeps one drain in flight at a time, so a slow device never stacks
 * up reads.
 */

import { exhaustMap, from, mergeMap, type Observable, timer } from 'rxjs';
import type { Transaction } from './event.js';
import type { LogCursor } from './log-cursor.js';

export function follow$(cursor: LogCursor, intervalMs = 200): Observable<Transaction> {
  return timer(0, intervalMs).pipe(
    exhaustMap(() => from(cursor.readAll())),
    mergeMap((txns) => from(txns)),
  );
}
