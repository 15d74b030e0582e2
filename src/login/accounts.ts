// Identities of logged-in users, keyed by the grant each login creates: codes and access tokens carry the
// grant id, so the token and userinfo endpoints release the identity of exactly that login. The engine's
// account id is the public `sub` (the semantics identifier). Kept no longer than a token of the login can
// still ask for it (identityLifetime): names and personal codes are personal data.
import type { Store } from '../store/store.ts';
import type { Identity } from '../identity/identity.ts';
import { jsonRecords, type JsonRecords } from './records.ts';

export interface AccountRecord {
  identity: Identity;
  correlationId: string;
  clientId: string;
}

const PREFIX = 'account:';

/**
 * Seconds an identity is kept after its login's hand-back: the resume that issues the code may come as late
 * as the interaction lives, the token request within the code's lifetime, userinfo within the access
 * token's; and never beyond the session, which every token expires with. Nothing releases claims later (no
 * refresh tokens; requests without a token release `sub` alone).
 */
export function identityLifetime(ttl: {
  session: number;
  interaction: number;
  authorization_code: number;
  access_token: number;
}): number {
  return Math.min(ttl.session, ttl.interaction + ttl.authorization_code + ttl.access_token);
}

export class Accounts {
  private readonly records: JsonRecords<AccountRecord>;
  /** the account each request read last (requests are objects the engine drops when they end) */
  private readonly reads = new WeakMap<object, { grantId: string; record: AccountRecord | undefined }>();

  constructor(store: Store, ttlSeconds: number) {
    this.records = jsonRecords(store, PREFIX, ttlSeconds);
  }

  /** The store key of a grant's account (what a token request may read ahead, src/oidc/reads-ahead.ts). */
  static keyOf(grantId: string): string {
    return PREFIX + grantId;
  }

  save(grantId: string, record: AccountRecord): Promise<void> {
    return this.records.set(grantId, record);
  }

  get(grantId: string): Promise<AccountRecord | undefined> {
    return this.records.get(grantId);
  }

  /** get(), read once per request: the token request releases the claims of a grant and then audits the
   * tokens it issued for the same grant (one store round trip instead of two). */
  async getIn(request: object, grantId: string): Promise<AccountRecord | undefined> {
    const read = this.reads.get(request);
    if (read?.grantId === grantId) return read.record;
    const record = await this.get(grantId);
    this.reads.set(request, { grantId, record });
    return record;
  }
}
