// The real memory store, on a clock the test moves or stops, whose operations fail the way an unreachable
// Redis does (a StoreUnavailableError): a store outage at a place of the test's choosing.
import { MemoryStore } from '../../src/store/memory.ts';
import { StoreUnavailableError } from '../../src/store/store.ts';

type Op =
  | 'get'
  | 'set'
  | 'replace'
  | 'setIfAbsent'
  | 'compareAndSet'
  | 'compareAndDelete'
  | 'take'
  | 'takeAndMark'
  | 'delete'
  | 'increment'
  | 'ttl';

export class CutOffStore extends MemoryStore {
  /** the next operation for which this holds fails, then it is cleared */
  failing?: (op: Op, key: string, value?: string) => boolean;
  /** with `failing`: the store stays away from that operation on (every later one fails too) until restore() */
  lasting = false;
  /** with `failing`: that operation is carried out and only its answer is lost (the connection broke after
   * the server ran it, as when a primary dies with the reply on its way) */
  replyLost = false;
  /** every operation for which this holds fails, until restore() (part of the store away) */
  away?: (op: Op, key: string, value?: string) => boolean;
  /** an operation for which this gives a promise is carried out once it settles (a slow node, a reply served
   * late, an order of execution of the test's choosing), until restore() */
  delay?: (op: Op, key: string) => Promise<unknown> | undefined;
  private down = false;
  /** milliseconds added to the real clock */
  skew = 0;
  /** the clock stands still at this time: nothing expires */
  stopped?: number;
  /** every operation asked of it, in order: `op key` */
  readonly log: string[] = [];
  /** what failed, in order: `op key` */
  readonly cuts: string[] = [];

  constructor() {
    super(() => this.stopped ?? Date.now() + this.skew);
  }

  /** The store answers again, and fails no more until told. */
  restore(): void {
    this.down = false;
    this.lasting = false;
    this.failing = undefined;
    this.away = undefined;
    this.delay = undefined;
    this.replyLost = false;
  }

  /** The value as it is, whether or not the store answers. */
  peek(key: string): Promise<string | undefined> {
    return super.get(key);
  }

  private async run<T>(op: Op, key: string, value: string | undefined, carryOut: () => Promise<T>): Promise<T> {
    this.log.push(`${op} ${key}`);
    const later = this.delay?.(op, key);
    if (later) await later;
    if (this.down || this.away?.(op, key, value)) return this.refuse(op, key);
    if (!this.failing?.(op, key, value)) return carryOut();
    this.failing = undefined;
    this.down = this.lasting;
    if (this.replyLost) {
      this.replyLost = false;
      await carryOut();
    }
    return this.refuse(op, key);
  }

  private refuse(op: Op, key: string): never {
    this.cuts.push(`${op} ${key}`);
    throw new StoreUnavailableError('redis (sentinel) unavailable: Connection is closed.');
  }

  override get(key: string) {
    return this.run('get', key, undefined, () => super.get(key));
  }

  override set(key: string, value: string, ttl: number) {
    return this.run('set', key, value, () => super.set(key, value, ttl));
  }

  override replace(key: string, value: string) {
    return this.run('replace', key, value, () => super.replace(key, value));
  }

  override setIfAbsent(key: string, value: string, ttl: number) {
    return this.run('setIfAbsent', key, value, () => super.setIfAbsent(key, value, ttl));
  }

  override compareAndSet(key: string, expected: string, value: string, ttl: number) {
    return this.run('compareAndSet', key, value, () => super.compareAndSet(key, expected, value, ttl));
  }

  override compareAndDelete(key: string, expected: string) {
    return this.run('compareAndDelete', key, expected, () => super.compareAndDelete(key, expected));
  }

  override take(key: string) {
    return this.run('take', key, undefined, () => super.take(key));
  }

  override takeAndMark(key: string, mark: string) {
    return this.run('takeAndMark', key, mark, () => super.takeAndMark(key, mark));
  }

  override async delete(...keys: string[]) {
    for (const key of keys) await this.run('delete', key, undefined, () => super.delete(key));
  }

  override increment(key: string, ttl: number) {
    return this.run('increment', key, undefined, () => super.increment(key, ttl));
  }

  override ttl(key: string) {
    return this.run('ttl', key, undefined, () => super.ttl(key));
  }
}
