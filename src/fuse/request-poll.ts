/*
 * Request polling (patch 9 of native/fuse-native.patch), seen from JS.
 *
 * A caller that makes one syscall at a time (a shell loop, tar, rm -r, an archive agent) sends
 * the next request a hundred microseconds or so after the last answer. The JS thread has gone
 * to sleep by then, in epoll_wait, and on a virtual machine whose idle CPU halts, waking it costs
 * tens of microseconds of every operation. So once JS has nothing left to do (the answer is out
 * and its fold is in the index), it asks the binding to poll: the binding spins until a request
 * for JS arrives or an adaptive window after the last answer is over (at most `maxUs`; it
 * closes once requests stop coming that soon). The event loop then runs the request without
 * sleeping. The cost is CPU, at most one window per answer and only while requests keep coming
 * within it, and latency for whatever else the event loop has to do (a timer, an IO
 * completion), which waits for the poll: at most one window. `poll_us=0` turns it off.
 */

export interface PollBinding {
  pollSet(maxUs: number): void;
  poll(): boolean;
  pollStats(): number[];
}

/** The longest window by default: a little above the gap of a one-at-a-time caller here. */
export const DEFAULT_POLL_US = 200;

export class RequestPoll {
  private scheduled = false;
  private stopped = false;

  constructor(
    private readonly binding: () => PollBinding | null,
    /** Whether JS has nothing in flight (no operation holds or waits for the filesystem). */
    private readonly idle: () => boolean,
  ) {}

  /** Start polling with windows of at most `maxUs` (after the mount; 0: off; at most 10 ms). */
  on(maxUs: number): void {
    this.binding()?.pollSet(maxUs);
  }

  /** Poll no more (at unmount: the commit and checkpoint after it have no requests to wait for). */
  off(): void {
    this.stopped = true;
    this.binding()?.pollSet(0);
  }

  /**
   * An answer went out, or a change finished folding: once what they set off has run (the
   * event loop's IO included: a check callback runs after it), poll if nothing is left.
   */
  settled(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.check);
  }

  /** [polls that spun, polls that caught a request, microseconds spent polling]. */
  stats(): [number, number, number] {
    const [calls = 0, hits = 0, us = 0] = this.binding()?.pollStats() ?? [];
    return [calls, hits, us];
  }

  private readonly check = () => {
    this.scheduled = false;
    if (!this.stopped && this.idle()) this.binding()?.poll();
  };
}
