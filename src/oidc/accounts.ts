// Identities of logged-in users, kept only as long as the session, keyed by the grant each login
// creates: codes and access tokens carry the grant id, so the token and userinfo endpoints release the
// identity of exactly that login. The engine's account id is the public `sub` (the semantics identifier).
import type { Store } from '../store/store.ts';
import type { Identity } from '../identity/identity.ts';

export interface AccountRecord {
  identity: Identity;
  correlationId: string;
  clientId: string;
}

export class Accounts {
  private readonly store: Store;
  private readonly ttlSeconds: number;

  constructor(store: Store, ttlSeconds: number) {
    this.store = store;
    this.ttlSeconds = ttlSeconds;
  }

  async save(grantId: string, record: AccountRecord): Promise<void> {
    await this.store.set(`account:${grantId}`, JSON.stringify(record), this.ttlSeconds);
  }

  async get(grantId: string): Promise<AccountRecord | undefined> {
    const raw = await this.store.get(`account:${grantId}`);
    return raw ? (JSON.parse(raw) as AccountRecord) : undefined;
  }
}

/** The claims each scope releases (ID token and userinfo alike). */
export const SCOPE_CLAIMS = {
  openid: ['sub', 'idp'],
  profile: ['given_name', 'family_name', 'birthdate'],
  personal_code: ['personal_code', 'personal_code_country'],
} as const;

export function identityClaims(identity: Identity): Record<string, string | undefined> {
  return {
    sub: identity.subject,
    idp: identity.idp,
    given_name: identity.givenName,
    family_name: identity.familyName,
    birthdate: identity.birthdate,
    personal_code: identity.personalCode,
    personal_code_country: identity.country,
  };
}
