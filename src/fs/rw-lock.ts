/*
 * A readers-writer lock for the filesystem's items.
 *
 * Mutations hold it exclusively from the decision (which reads items) through the append of
 * their events and the fold of those events into the index, so no other operation sees half
 * of a change or decides on items that are about to change. Reads share it. Waiters are served
 * in arrival order, so a stream of readers cannot starve a writer.
 */

type Waiter = { exclusive: boolean; wake: () => void };

export class RwLock {
  private readers = 0;
  private writer = false;
  private readonly queue: Waiter[] = [];

  /** Nobody holds it exclusively or waits for it: a synchronous read now sees no half change. */
  get quiet(): boolean {
    return !this.writer && this.queue.length === 0;
  }

  /** Nobody holds it or waits for it. */
  get idle(): boolean {
    return !this.writer && this.readers === 0 && this.queue.length === 0;
  }

  async shared<T>(fn: () => Promise<T>): Promise<T> {
    await this.acquire(false);
    try {
      return await fn();
    } finally {
      this.readers -= 1;
      this.drain();
    }
  }

  async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    await this.acquire(true);
    try {
      return await fn();
    } finally {
      this.writer = false;
      this.drain();
    }
  }

  private acquire(exclusive: boolean): Promise<void> {
    if (this.queue.length === 0 && this.canEnter(exclusive)) {
      this.enter(exclusive);
      return Promise.resolve();
    }
    return new Promise((wake) => this.queue.push({ exclusive, wake }));
  }

  private canEnter(exclusive: boolean): boolean {
    return exclusive ? !this.writer && this.readers === 0 : !this.writer;
  }

  private enter(exclusive: boolean): void {
    if (exclusive) this.writer = true;
    else this.readers += 1;
  }

  private drain(): void {
    while (this.queue.length > 0 && this.canEnter(this.queue[0]!.exclusive)) {
      const w = this.queue.shift()!;
      this.enter(w.exclusive);
      w.wake();
    }
  }
}
