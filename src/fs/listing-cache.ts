/*
 * Directory listings kept in memory, as the names readdir returns.
 *
 * A listing is read from the readdir items once and served from here until a dirent of that
 * directory is added or removed (the fs drops it when it appends such an event, before the
 * fold, under the exclusive lock). The cache is bounded by the number of names it holds; the
 * least recently used listings go first.
 */

export interface Listed {
  name: Buffer;
  ino: number;
  dtype: number;
}

export class ListingCache {
  private readonly lists = new Map<number, Listed[]>();
  private names = 0;

  constructor(private readonly maxNames = 1_000_000) {}

  get(dir: number): Listed[] | undefined {
    const l = this.lists.get(dir);
    if (l) {
      this.lists.delete(dir);
      this.lists.set(dir, l);
    }
    return l;
  }

  set(dir: number, list: Listed[]): void {
    if (list.length > this.maxNames) return;
    this.drop(dir);
    this.lists.set(dir, list);
    this.names += list.length;
    for (const [d, l] of this.lists) {
      if (this.names <= this.maxNames) break;
      this.lists.delete(d);
      this.names -= l.length;
    }
  }

  drop(dir: number): void {
    const l = this.lists.get(dir);
    if (!l) return;
    this.lists.delete(dir);
    this.names -= l.length;
  }
}
