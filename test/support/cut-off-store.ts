// The real memory store, on a clock the test moves, whose next operation matching `failing` fails the way an
// unreachable Redis does (a StoreUnavailableError): a store outage at a place of the test's choosing.
import { MemoryStore } from '../../src/store/memory.ts';
import { StoreUnavailableError } from '../../src/store/store.ts';

type Op =
  | 'get'
  | 'set'
  | 'replace'
  | 'setIfAbsent'
  | 'compareAndSet'
  | 'take'
  | 'delete'
  | 'addToSet'
  | 'takeSet'
  | 'increment'
  | 'ttl';

export class CutOffStore extends MemoryStore {
  /** the next operation for which this holds fails, then it is cleared */
  failing?: (op: Op, key: string, value?: string) => boolean;
  /** with `failing`: the store stays away from that operation on (every later one fails too) until restore() */
  lasting = false;
  private down = false;
  /** milliseconds added to the real clock */
  skew = 0;
  /** every operation asked of it, in order: `op key` */
  readonly log: string[] = [];
  /** what failed, in order: `op key` */
  readonly cuts: string[] = [];

  constructor() {
    super(() => Date.now() + this.skew);
  }

  /** The store answers again. */
  restore(): void {
    this.down = false;
    this.failing = undefined;
  }

  private cut(op: Op, key: string, value?: string): void {
    this.log.push(`${op} ${key}`);
    if (!this.down && !this.failing?.(op, key, value)) return;
    this.failing = undefined;
    this.down = this.lasting;
    this.cuts.push(`${op} ${key}`);
    throw new StoreUnavailableError('redis (sentinel) unavailable: Connection is closed.');
  }

  override async get(key: string) {
    this.cut('get', key);
    return super.get(key);
  }

  override async set(key: string, value: string, ttl: number) {
    this.cut('set', key, value);
    return super.set(key, value, ttl);
  }

  override async replace(key: string, value: string) {
    this.cut('replace', key, value);
    return super.replace(key, value);
  }

  override async setIfAbsent(key: string, value: string, ttl: number) {
    this.cut('setIfAbsent', key, value);
    return super.setIfAbsent(key, value, ttl);
  }

  override async compareAndSet(key: string, expected: string, value: string, ttl: number) {
    this.cut('compareAndSet', key, value);
    return super.compareAndSet(key, expected, value, ttl);
  }

  override async take(key: string) {
    this.cut('take', key);
    return super.take(key);
  }

  override async delete(...keys: string[]) {
    for (const key of keys) this.cut('delete', key);
    return super.delete(...keys);
  }

  override async addToSet(key: string, member: string, ttl: number) {
    this.cut('addToSet', key, member);
    return super.addToSet(key, member, ttl);
  }

  override async takeSet(key: string) {
    this.cut('takeSet', key);
    return super.takeSet(key);
  }

  override async increment(key: string, ttl: number) {
    this.cut('increment', key);
    return super.increment(key, ttl);
  }

  override async ttl(key: string) {
    this.cut('ttl', key);
    return super.ttl(key);
  }
}
