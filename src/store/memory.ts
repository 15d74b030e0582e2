// In-memory backend: the embedded default for one process (demo, single node). Expired entries are
// dropped lazily on access and by a periodic sweep. It holds at most `maxBytes` (`store.max_bytes`: keys
// and values in UTF-8 plus ENTRY_OVERHEAD per entry): a write beyond that is refused as an outage
// (StoreUnavailableError), as a Redis out of memory under `noeviction` refuses it, so a flood of anonymous
// logins meets the retry page instead of growing the heap until V8 aborts the process, and every login
// in flight with it. Nothing live is ever dropped to make room: single use rests on markers being there.
import { assertTtl, MARKED, type Store, StoreUnavailableError, type Taken, takenFrom } from './store.ts';

/** store.max_bytes when not configured: far below the V8 heap limit of a 64-bit Node.js (2 GiB and up). */
export const DEFAULT_MAX_BYTES = 256 * 1024 * 1024;

/** What an entry costs beyond its key and value: its Map slot, the entry object, two string headers. */
const ENTRY_OVERHEAD = 128;

/** Once full, writes stay refused until the live entries hold at most this share of the cap: the readiness
 * probe's small write must not find room that a login's larger writes would not. */
const LOW_WATER = 0.9;

/** While full, expired entries are swept at most this often (a sweep walks every entry). */
const FULL_SWEEP_MS = 1000;

interface Entry {
  value: string;
  expiresAt: number;
  bytes: number;
}

export interface MemoryStoreOptions {
  /** how often expired entries are swept in any case */
  sweepMs?: number;
  /** the cap (store.max_bytes) */
  maxBytes?: number;
}

export class MemoryStore implements Store {
  private readonly entries = new Map<string, Entry>();
  private readonly sweeper: NodeJS.Timeout;
  private readonly now: () => number;
  private readonly maxBytes: number;
  /** what the entries in the map hold, expired ones not swept yet included */
  private usedBytes = 0;
  /** no entry expires before this (exact after a sweep; writes only lower it) */
  private earliest = Number.POSITIVE_INFINITY;
  private sweptAt = Number.NEGATIVE_INFINITY;
  /** a write was refused and the live entries have not shrunk below LOW_WATER since */
  private full = false;

  constructor(now: () => number = Date.now, options: MemoryStoreOptions = {}) {
    this.now = now;
    this.maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
    this.sweeper = setInterval(() => this.sweep(), options.sweepMs ?? 30_000);
    this.sweeper.unref();
  }

  private drop(key: string, entry: Entry): void {
    this.entries.delete(key);
    this.usedBytes -= entry.bytes;
  }

  private live(key: string): Entry | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.drop(key, entry);
      return undefined;
    }
    return entry;
  }

  private sweep(): void {
    const now = this.now();
    let earliest = Number.POSITIVE_INFINITY;
    for (const [key, entry] of this.entries) {
      if (entry.expiresAt <= now) this.drop(key, entry);
      else earliest = Math.min(earliest, entry.expiresAt);
    }
    this.earliest = earliest;
    this.sweptAt = now;
  }

  /** Throws unless `bytes` more, less what the entry under `key` holds, fit below the cap (see LOW_WATER). */
  private makeRoom(key: string, bytes: number): void {
    const now = this.now();
    // only live entries count: sweep when one can have expired since (not on every refused write of a flood)
    if (now >= this.earliest && now - this.sweptAt >= FULL_SWEEP_MS) this.sweep();
    const limit = this.full ? this.maxBytes * LOW_WATER : this.maxBytes;
    if (this.usedBytes - (this.entries.get(key)?.bytes ?? 0) + bytes <= limit) {
      this.full = false;
      return;
    }
    this.full = true;
    throw new StoreUnavailableError(
      `memory store full: live entries hold ${this.usedBytes} bytes of store.max_bytes ${this.maxBytes}; writes are refused until some expire`,
    );
  }

  /** The one way an entry is written: within the cap, or not at all. */
  private put(key: string, value: string, expiresAt: number): void {
    const bytes = Buffer.byteLength(key) + Buffer.byteLength(value) + ENTRY_OVERHEAD;
    const previous = this.entries.get(key);
    if (this.full || this.usedBytes - (previous?.bytes ?? 0) + bytes > this.maxBytes) this.makeRoom(key, bytes);
    // a sweep in makeRoom may have dropped it already
    const replaced = this.entries.get(key);
    if (replaced) this.usedBytes -= replaced.bytes;
    this.entries.set(key, { value, expiresAt, bytes });
    this.usedBytes += bytes;
    this.earliest = Math.min(this.earliest, expiresAt);
  }

  private expiry(ttlSeconds: number): number {
    assertTtl(ttlSeconds);
    return this.now() + ttlSeconds * 1000;
  }

  async get(key: string): Promise<string | undefined> {
    return this.live(key)?.value;
  }

  async set(key: string, value: string, ttlSeconds: number): Promise<void> {
    this.put(key, value, this.expiry(ttlSeconds));
  }

  async swap(key: string, value: string, ttlSeconds: number): Promise<string | undefined> {
    const expiresAt = this.expiry(ttlSeconds);
    const previous = this.live(key)?.value;
    this.put(key, value, expiresAt);
    return previous;
  }

  async replace(key: string, value: string): Promise<boolean> {
    const entry = this.live(key);
    if (!entry) return false;
    this.put(key, value, entry.expiresAt);
    return true;
  }

  async setIfAbsent(key: string, value: string, ttlSeconds: number): Promise<boolean> {
    const expiresAt = this.expiry(ttlSeconds);
    if (this.live(key)) return false;
    this.put(key, value, expiresAt);
    return true;
  }

  async compareAndSet(key: string, expected: string, value: string, ttlSeconds: number): Promise<boolean> {
    const expiresAt = this.expiry(ttlSeconds);
    if (this.live(key)?.value !== expected) return false;
    this.put(key, value, expiresAt);
    return true;
  }

  async compareAndDelete(key: string, expected: string): Promise<boolean> {
    const entry = this.live(key);
    if (entry?.value !== expected) return false;
    this.drop(key, entry);
    return true;
  }

  async take(key: string): Promise<string | undefined> {
    const entry = this.live(key);
    if (!entry) return undefined;
    this.drop(key, entry);
    return entry.value;
  }

  async takeAndMark(key: string, mark: string): Promise<Taken | undefined> {
    const entry = this.live(key);
    if (entry && !entry.value.startsWith(MARKED)) this.put(key, MARKED + mark, entry.expiresAt);
    return takenFrom(entry?.value);
  }

  async delete(...keys: string[]): Promise<void> {
    for (const key of keys) {
      const entry = this.entries.get(key);
      if (entry) this.drop(key, entry);
    }
  }

  async increment(key: string, ttlSeconds: number): Promise<{ count: number; ttl: number }> {
    const fresh = this.expiry(ttlSeconds);
    const entry = this.live(key);
    const count = (entry ? Number(entry.value) || 0 : 0) + 1;
    const expiresAt = entry ? entry.expiresAt : fresh;
    this.put(key, String(count), expiresAt);
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

  /** Bytes the live entries hold, as the cap counts them (for tests and metrics). */
  get bytes(): number {
    this.sweep();
    return this.usedBytes;
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    this.entries.clear();
    this.usedBytes = 0;
  }
}
