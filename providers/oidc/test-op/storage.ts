// In-memory storage for the test OP, one per instance. Clients are served through it rather than the
// static `clients` option: node-oidc-provider structuredClone()s static clients, which under jest's VM
// realm yields objects its own plain-object check rejects (`client JSON Web Key Set is invalid`).
import type { Adapter, AdapterPayload, ClientMetadata } from 'oidc-provider';

interface Entry {
  payload: AdapterPayload;
  expiresAt: number;
}

export type TestOpStorage = (new (
  name: string,
) => Adapter) & {
  /** Move every session's login this many seconds into the past, as if its person had logged in that long
   * ago (a shared computer left logged in); time passes for the sessions without a test waiting. */
  ageSessions(seconds: number): void;
};

/** `clients` stays live: entries added to it later (once the gateway's callback URL is known) are served too. */
export function memoryStorage(byClientId: Map<string, ClientMetadata>): TestOpStorage {
  const data = new Map<string, Entry>();
  const alive = (key: string): AdapterPayload | undefined => {
    const entry = data.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= Date.now()) {
      data.delete(key);
      return undefined;
    }
    return entry.payload;
  };

  return class TestOpStorage implements Adapter {
    private readonly name: string;

    static ageSessions(seconds: number): void {
      for (const [key, entry] of data) {
        if (key.startsWith('Session:') && typeof entry.payload.loginTs === 'number') entry.payload.loginTs -= seconds;
      }
    }

    constructor(name: string) {
      this.name = name;
    }

    private key(id: string): string {
      return `${this.name}:${id}`;
    }

    async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
      data.set(this.key(id), {
        payload: { ...payload },
        expiresAt: expiresIn ? Date.now() + expiresIn * 1000 : Infinity,
      });
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      if (this.name === 'Client') {
        const client = byClientId.get(id);
        // a fresh copy each time, built in this realm
        return client ? (JSON.parse(JSON.stringify(client)) as AdapterPayload) : undefined;
      }
      return alive(this.key(id));
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      for (const [key] of data) {
        if (!key.startsWith(`${this.name}:`)) continue;
        const payload = alive(key);
        if (payload?.uid === uid) return payload;
      }
      return undefined;
    }

    async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      for (const [key] of data) {
        if (!key.startsWith(`${this.name}:`)) continue;
        const payload = alive(key);
        if (payload?.userCode === userCode) return payload;
      }
      return undefined;
    }

    async consume(id: string): Promise<void> {
      const payload = alive(this.key(id));
      if (payload) payload.consumed = Math.floor(Date.now() / 1000);
    }

    async destroy(id: string): Promise<void> {
      data.delete(this.key(id));
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      for (const [key, entry] of data) if (entry.payload.grantId === grantId) data.delete(key);
    }
  };
}
