/*
 * Named fault points, armed by tests.
 *
 * Like scoutfs's triggers: code that can fail in an interesting way asks `fire(name)` at that
 * point, and a test arms the name beforehand with its parameters. Arming is explicit and
 * visible; nothing is monkey-patched. A process can be started with faults armed through the
 * SCOUTFS_TRIGGERS environment variable ("name:key=value,key=value;name2"), which is how the
 * crash tests arm a child process.
 *
 *   device.write.torn  {after, keep}  the (after+1)th write from now stores only its first
 *                                     `keep` bytes, then the device is dead (a power cut)
 *   device.write.eio   {block}        writes touching the block fail with EIO
 *   device.read.eio    {block}        reads touching the block fail with EIO
 *   device.sync.crash  {after}        the (after+1)th sync never happens; the device is dead
 */

export type TriggerName = 'device.write.torn' | 'device.write.eio' | 'device.read.eio' | 'device.sync.crash';
const NAMES: readonly TriggerName[] = [
  'device.write.torn',
  'device.write.eio',
  'device.read.eio',
  'device.sync.crash',
];

export type TriggerParams = Record<string, number>;

export class Triggers {
  private readonly armed = new Map<TriggerName, TriggerParams>();

  arm(name: TriggerName, params: TriggerParams = {}): this {
    this.armed.set(name, { ...params });
    return this;
  }

  disarm(name: TriggerName): void {
    this.armed.delete(name);
  }

  /** The parameters of an armed trigger, or undefined. */
  params(name: TriggerName): TriggerParams | undefined {
    return this.armed.get(name);
  }

  /**
   * Count down a one-shot trigger: returns its parameters when this call is the one it was
   * armed for (and disarms it), otherwise undefined.
   */
  countdown(name: TriggerName): TriggerParams | undefined {
    const p = this.armed.get(name);
    if (!p) return undefined;
    const after = p.after ?? 0;
    if (after > 0) {
      p.after = after - 1;
      return undefined;
    }
    this.armed.delete(name);
    return p;
  }

  get any(): boolean {
    return this.armed.size > 0;
  }

  static parse(spec: string | undefined): Triggers {
    const t = new Triggers();
    for (const part of (spec ?? '').split(';').filter(Boolean)) {
      const [name, args = ''] = part.split(':');
      if (!NAMES.includes(name as TriggerName)) throw new Error(`unknown trigger "${name}"`);
      const params: TriggerParams = {};
      for (const kv of args.split(',').filter(Boolean)) {
        const [k, v] = kv.split('=');
        const n = Number(v);
        if (!k || !Number.isFinite(n)) throw new Error(`trigger ${name}: bad parameter "${kv}"`);
        params[k] = n;
      }
      t.arm(name as TriggerName, params);
    }
    return t;
  }
}
