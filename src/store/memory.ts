// In-memory backend: the embedded default for one process (demo, single node). Expired entries are
// dropped lazily on access and by a periodic sweep so memory stays bounded by live state.
import { assertTtl, type Store } from './store.ts';

interface Entry {
  value: string;
  expiresAt: number;
}

export class MemoryStore implements Store {
  private readonly entries = new Map<string, Entry>();
  private readonly sweeper: NodeJS.Timeout;

  private readonly now: () => number;

  constructor(now: () => number = Date.now, sweepMs = 30_000) {
    this.now = now;
    this.sweeper = setInterval(() => this.sweep(), sweepMs);
    this.sweeper.unref();
  }

  private live(key: string): Entry | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  private sweep(): void {
    const now = this.now();
    for (const [key, entry] of this.entries) if (entry.expiresAt <= now) this.entries.delete(key);
  }

  async get(key: string): Promise<string | undefined> {
    return this.live(key)?.value;
  }

  async set(key: string, value: string, ttlSeconds: number): Promise<void> {
    assertTtl(ttlSeconds);
    this.entries.set(key, { value, expiresAt: this.now() + ttlSeconds * 1000 });
  }

  async swap(key: string, value: string, ttlSeconds: number): Promise<string | undefined> {
    assertTtl(ttlSeconds);
    const previous = this.live(key)?.value;
    this.entries.set(key, { value, expiresAt: this.now() + ttlSeconds * 1000 });
    return previous;
  }

  async replace(key: string, value: string): Promise<boolean> {
    const entry = this.live(key);
    if (!entry) return false;
    entry.value = value;
    return true;
  }

  async setIfAbsent(key: string, value: string, ttlSeconds: number): Promise<boolean> {
    assertTtl(ttlSeconds);
    if (this.live(key)) return false;
    this.entries.set(key, { value, expiresAt: this.now() + ttlSeconds * 1000 });
    return true;
  }

  async compareAndSet(key: string, expected: string, value: string, ttlSeconds: number): Promise<boolean> {
    assertTtl(ttlSeconds);
    if (this.live(key)?.value !== expected) return false;
    this.entries.set(key, { value, expiresAt: this.now() + ttlSeconds * 1000 });
    return true;
  }

  async compareAndDelete(key: string, expected: string): Promise<boolean> {
    if (this.live(key)?.value !== expected) return false;
    this.entries.delete(key);
    return true;
  }

  async take(key: string): Promise<string | undefined> {
    const entry = this.live(key);
    if (!entry) return undefined;
    this.entries.delete(key);
    return entry.value;
  }

  async delete(...keys: string[]): Promise<void> {
    for (const key of keys) this.entries.delete(key);
  }

  async increment(key: string, ttlSeconds: number): Promise<{ count: number; ttl: number }> {
    assertTtl(ttlSeconds);
    const entry = this.live(key);
    const count = (entry ? Number(entry.value) || 0 : 0) + 1;
    const expiresAt = entry ? entry.expiresAt : this.now() + ttlSeconds * 1000;
    this.entries.set(key, { value: String(count), expiresAt });
    return { count, ttl: Math.max(1, Math.ceil((expiresAt - this.now()) / 1000)) };
  }

  async ttl(key: string): Promise<number | undefined> {
    const entry = this.live(key);
    return entry ? Math.ceil((entry.expiresAt - this.now()) / 1000) : undefined;
  }

  /** Number of live keys (for tests and metrics). */
  get size(): number {
    this.sweep();
    return this.entries.size;
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    this.entries.clear();
  }
}
