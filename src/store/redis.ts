// Redis backend (ioredis). Every key carries the configured prefix; every write sets its TTL in the same
// command or MULTI, so no key ever lives without one. Needs Redis >= 7 (GETDEL, EXPIRE NX/GT).
import { Redis, type RedisOptions } from 'ioredis';
import { assertTtl, type Store } from './store.ts';

export interface RedisStoreOptions {
  url: string;
  prefix: string;
  options?: RedisOptions;
}

export class RedisStore implements Store {
  readonly client: Redis;
  private readonly prefix: string;

  constructor({ url, prefix, options }: RedisStoreOptions) {
    this.client = new Redis(url, {
      lazyConnect: false,
      maxRetriesPerRequest: 2,
      enableAutoPipelining: true,
      ...options,
    });
    // errors surface on the commands that fail; an unhandled 'error' event would crash the process
    this.client.on('error', () => {});
    this.prefix = prefix;
  }

  private prefixed(key: string): string {
    return this.prefix + key;
  }

  async get(key: string): Promise<string | undefined> {
    return (await this.client.get(this.prefixed(key))) ?? undefined;
  }

  async set(key: string, value: string, ttlSeconds: number): Promise<void> {
    assertTtl(ttlSeconds);
    await this.client.set(this.prefixed(key), value, 'EX', ttlSeconds);
  }

  async replace(key: string, value: string): Promise<boolean> {
    return (await this.client.set(this.prefixed(key), value, 'KEEPTTL', 'XX')) === 'OK';
  }

  async setIfAbsent(key: string, value: string, ttlSeconds: number): Promise<boolean> {
    assertTtl(ttlSeconds);
    return (await this.client.set(this.prefixed(key), value, 'EX', ttlSeconds, 'NX')) === 'OK';
  }

  async take(key: string): Promise<string | undefined> {
    return (await this.client.getdel(this.prefixed(key))) ?? undefined;
  }

  async delete(...keys: string[]): Promise<void> {
    if (keys.length) await this.client.del(...keys.map((key) => this.prefixed(key)));
  }

  async addToSet(key: string, member: string, ttlSeconds: number): Promise<void> {
    assertTtl(ttlSeconds);
    const k = this.prefixed(key);
    // NX gives a new set its TTL, GT only ever extends an existing one
    const results = await this.client
      .multi()
      .sadd(k, member)
      .expire(k, ttlSeconds, 'NX')
      .expire(k, ttlSeconds, 'GT')
      .exec();
    const failed = results?.find(([err]) => err);
    if (!results || failed) throw failed?.[0] ?? new Error('redis transaction aborted');
  }

  async takeSet(key: string): Promise<string[]> {
    const k = this.prefixed(key);
    const results = await this.client.multi().smembers(k).del(k).exec();
    if (!results || results[0]?.[0]) throw results?.[0]?.[0] ?? new Error('redis transaction aborted');
    return (results[0]?.[1] as string[]) ?? [];
  }

  async increment(key: string, ttlSeconds: number): Promise<{ count: number; ttl: number }> {
    assertTtl(ttlSeconds);
    const k = this.prefixed(key);
    // one round trip; NX starts the window on the first increment and never extends it
    const results = await this.client.multi().incr(k).expire(k, ttlSeconds, 'NX').ttl(k).exec();
    const failed = results?.find(([err]) => err);
    if (!results || failed) throw failed?.[0] ?? new Error('redis transaction aborted');
    const ttl = Number(results[2]?.[1]);
    return { count: Number(results[0]?.[1]), ttl: ttl > 0 ? ttl : ttlSeconds };
  }

  async ttl(key: string): Promise<number | undefined> {
    const ttl = await this.client.ttl(this.prefixed(key));
    return ttl >= 0 ? ttl : undefined;
  }

  async close(): Promise<void> {
    await this.client.quit().catch(() => this.client.disconnect());
  }
}
