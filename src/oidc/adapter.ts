// node-oidc-provider's storage Adapter on top of our Store. Unlike the engine's old Redis example: TTLs are
// set in the same command as the value, uid/userCode index keys are removed when their model is destroyed,
// and a grant is revoked by deleting the grant itself, not every token through an index of the grant: the
// engine loads a code's, a token's or a refresh token's grant before it accepts one (validateGrant at the
// token endpoint, loadAccessTokenGrant at userinfo, the grant check of introspection) and refuses it when
// the grant is gone, so the tokens of a revoked grant are dead the moment it is deleted, and expire by TTL.
import { errors, type Adapter, type AdapterPayload } from 'oidc-provider';
import type { Store } from '../store/store.ts';
import { codeOfTokenRequest, issuedAt, rememberFoundCode, spendCode, spentCode } from './code-redemption.ts';
import { JwtIdTaken } from './jwt-replay.ts';

/** The models the engine consumes (their `consume()`): only these ever have a consumed marker. */
const CONSUMABLE = new Set([
  'AuthorizationCode',
  'RefreshToken',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
  'PushedAuthorizationRequest',
  'PreAuthorizedCode',
]);

export interface AdapterReadsAhead {
  /** start reading keys in the engine request under way (./reads-ahead.ts) */
  readAhead(keys: readonly string[]): void;
  /** what else a token request reads for the grant of its code (the account of its login) */
  withCode?(grantId: string): string[];
}

/** What a request that just found a model of `name` will read next: a code's session binding, grant (and
 * account); the grant an interaction's result names, which the resume reads after destroying it. */
function readsAfter(name: string, payload: AdapterPayload, also: AdapterReadsAhead): string[] {
  const result = payload.result as { consent?: { grantId?: string } } | undefined;
  if (name === 'Interaction') return result?.consent?.grantId ? [`oidc:Grant:${result.consent.grantId}`] : [];
  if (name !== 'AuthorizationCode' || !payload.grantId) return [];
  const session = payload.expiresWithSession && payload.sessionUid ? [`oidc:uid:Session:${payload.sessionUid}`] : [];
  return [...session, `oidc:Grant:${payload.grantId}`, ...(also.withCode?.(payload.grantId) ?? [])];
}

/** A model's record as stored: the engine's `jti` (the record's id) and `kind` (its model) are what its key
 * already says, so they are left out of the value (about 70 B of each code, token, session and grant) and
 * put back by `expand`. A record without them as the key says is stored whole. */
function compact(name: string, id: string, payload: AdapterPayload): string {
  const { jti, kind, ...rest } = payload;
  return JSON.stringify(jti === id && kind === name ? rest : payload);
}

/** A stored record as the engine wrote it (a record stored whole, by an earlier version too, as it is). */
function expand(name: string, id: string, raw: string): AdapterPayload {
  const payload = JSON.parse(raw) as AdapterPayload;
  return payload.jti === undefined && payload.kind === undefined ? { ...payload, jti: id, kind: name } : payload;
}

/** `grantKeys`: the gateway's own keys that belong to a grant (the identity it releases), deleted with it. */
export function storeAdapterFactory(
  store: Store,
  reads?: AdapterReadsAhead,
  grantKeys: (grantId: string) => string[] = () => [],
): new (
  name: string,
) => Adapter {
  return class StoreAdapter implements Adapter {
    private readonly name: string;

    constructor(name: string) {
      this.name = name;
    }

    private key(id: string): string {
      return `oidc:${this.name}:${id}`;
    }

    async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
      const ttl = Math.max(1, Math.ceil(expiresIn));
      if (this.name === 'ReplayDetection') {
        // the engine finds, then saves, a JWT id (client assertion, DPoP proof): concurrent replays of one JWT
        // would all pass that check, so recording an id is create-only and the second attempt is refused
        if (!(await store.setIfAbsent(this.key(id), compact(this.name, id, payload), ttl)))
          throw new JwtIdTaken('this JWT (client assertion or DPoP proof) was already used');
        return;
      }
      // the value and its indexes are independent writes: issued together they share one Redis round trip
      const index: Promise<void>[] = [store.set(this.key(id), compact(this.name, id, payload), ttl)];
      if (payload.uid) index.push(store.set(`oidc:uid:${this.name}:${payload.uid}`, id, ttl));
      if (payload.userCode) index.push(store.set(`oidc:userCode:${payload.userCode}`, id, ttl));
      await Promise.all(index);
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      if (this.name === 'AuthorizationCode') {
        // a code's marker says whether it is spent (src/oidc/code-redemption.ts); read in the same round trip
        const [raw, marker] = await Promise.all([store.get(this.key(id)), store.get(this.consumedKey(id))]);
        if (!raw) {
          // once its tokens are out, a code is its marker: the engine still finds it, and refuses its reuse
          // the marker is written before the record is deleted: read after the record was found gone (not
          // beside it, which Cluster may serve first), it is the one that answers
          const spent = spentCode(marker) ?? spentCode(await store.get(this.consumedKey(id)));
          return spent && { ...spent, jti: id, kind: this.name };
        }
        const payload = expand(this.name, id, raw);
        rememberFoundCode(id, payload);
        if (reads) reads.readAhead(readsAfter(this.name, payload, reads));
        const consumed = issuedAt(marker);
        return consumed === undefined ? payload : { ...payload, consumed };
      }
      const raw = await store.get(this.key(id));
      if (!raw) return undefined;
      const payload = expand(this.name, id, raw);
      if (reads) reads.readAhead(readsAfter(this.name, payload, reads));
      return payload;
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      const id = await store.get(`oidc:uid:${this.name}:${uid}`);
      return id ? this.find(id) : undefined;
    }

    async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      const id = await store.get(`oidc:userCode:${userCode}`);
      return id ? this.find(id) : undefined;
    }

    async consume(id: string): Promise<void> {
      if (this.name === 'AuthorizationCode') {
        // one store round trip fewer: the code as the engine read it moments ago in this token request
        const payload = codeOfTokenRequest(id) ?? (await this.find(id));
        if (!payload) return;
        const revoke = () => this.revokeGrant(payload);
        const forget = () => store.delete(this.key(id));
        if (!(await spendCode(store, this.consumedKey(id), payload, revoke, forget))) await this.refuseReuse(payload);
        return;
      }
      const [payload, ttl] = await Promise.all([this.find(id), store.ttl(this.key(id))]);
      if (!payload) return;
      // Requests consuming the same model at once all find it unconsumed (the engine checks, then consumes):
      // only the first to mark it may go on; the others fail and, as on a later reuse, revoke the grant.
      // The marker and the consumed payload go out together (one round trip): a refused request's rewrite
      // only repeats what the first one wrote, a consumed model.
      payload.consumed = Math.floor(Date.now() / 1000);
      const [first] = await Promise.all([
        store.setIfAbsent(this.consumedKey(id), '1', Math.max(1, ttl ?? 1)),
        store.replace(this.key(id), compact(this.name, id, payload)),
      ]);
      if (!first) await this.refuseReuse(payload);
    }

    /** A second redemption: the grant goes with everything issued under it (RFC 6749 4.1.2, 10.5). */
    private async refuseReuse(payload: AdapterPayload): Promise<never> {
      await this.revokeGrant(payload);
      throw this.name === 'PushedAuthorizationRequest'
        ? new errors.InvalidRequestUri('request_uri is invalid, expired, or was already used')
        : new errors.InvalidGrant(`${this.name} already consumed`);
    }

    private async revokeGrant(payload: AdapterPayload): Promise<void> {
      if (payload.grantId) await this.revokeByGrantId(payload.grantId);
    }

    private consumedKey(id: string): string {
      return `oidc:consumed:${this.name}:${id}`;
    }

    async destroy(id: string): Promise<void> {
      // the model and its consumed marker (for a model the engine consumes) go in one round trip; its
      // indexes, when it has any, in a second
      const [raw] = await Promise.all([
        store.take(this.key(id)),
        CONSUMABLE.has(this.name) ? store.delete(this.consumedKey(id)) : undefined,
      ]);
      // The engine's resume finds the Interaction, then destroys it before it logs the user in and issues a
      // code: concurrent resumes would all have found it. Taking it is the atomic claim, so only the first
      // resume goes on; the others fail as a resume of an interaction already gone does.
      if (!raw && this.name === 'Interaction') throw new errors.SessionNotFound('interaction session not found');
      const payload = raw ? (JSON.parse(raw) as AdapterPayload) : undefined;
      const keys: string[] = [];
      if (payload?.uid) keys.push(`oidc:uid:${this.name}:${payload.uid}`);
      if (payload?.userCode) keys.push(`oidc:userCode:${payload.userCode}`);
      if (keys.length) await store.delete(...keys);
    }

    /** Every code and token issued under the grant is refused from now on (see the top of this file); also
     * where the engine's revokeGrantPolicy keeps the grant (an access token revoked at the revocation
     * endpoint), since the grant's other tokens are revoked with it there (RFC 7009 2.1). The identity the
     * grant released goes with it (a logout, a revoked token, a reused code): no token can ask for it now. */
    async revokeByGrantId(grantId: string): Promise<void> {
      await store.delete(`oidc:Grant:${grantId}`, ...grantKeys(grantId));
    }
  };
}
