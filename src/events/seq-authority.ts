/*
 * Where transaction seqs come from.
 *
 * Seqs order every change in the cluster, so they come from one authority: the cluster's
 * server. It hands out a seq when a node opens a transaction and learns when the transaction
 * is committed, so it can say which seq is stable: the highest seq below which every
 * transaction that was handed out has committed (or been abandoned by a node that died). That
 * is the horizon `walk-inodes` shows up to, so an agent that remembers the last seq it saw
 * never misses a transaction that commits late.
 *
 * LocalSeqAuthority is the authority of a cluster of one, in process. The remote client that
 * asks the elected server has the same interface.
 */

export interface SeqAuthority {
  /** A new seq, greater than every seq handed out or found committed before. */
  openSeq(): Promise<number>;
  /** The transaction with this seq is durable (or was empty and is abandoned). */
  closeSeq(seq: number): void;
  /** Every transaction with a seq at or below this is durable or abandoned. */
  stableSeq(): number;
}

export class LocalSeqAuthority implements SeqAuthority {
  private last: number;
  private readonly open = new Set<number>();

  /** `lastCommitted`: the highest seq found in any log. */
  constructor(lastCommitted: number) {
    this.last = lastCommitted;
  }

  async openSeq(): Promise<number> {
    this.last += 1;
    this.open.add(this.last);
    return this.last;
  }

  closeSeq(seq: number): void {
    this.open.delete(seq);
  }

  stableSeq(): number {
    let stable = this.last;
    for (const s of this.open) stable = Math.min(stable, s - 1);
    return stable;
  }
}
