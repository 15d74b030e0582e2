// An authorization code is spent when its tokens are released, not when the engine starts redeeming it.
// node-oidc-provider consumes the code first and then writes the access token; when the store fails in
// between (a Redis failover), the answer is a 503, yet a code marked consumed would make the client's
// retry an invalid_grant: a login lost. So, at the token endpoint, consuming takes a short lease on the
// code's marker ("pending:<id>"); only when the whole token response is ready does the lease turn into
// "issuing:<id>" (compare-and-set, acknowledged by the replicas: from here on the tokens may go out), then
// into "issued:<time>", and only then is the response released.
// - A lease cut off by an outage expires and the code can be redeemed again.
// - A second redemption while the lease is held is told to try again and marks the lease "contested": its
//   holder then releases nothing and revokes the grant, as for any reuse (RFC 6749 4.1.2, 10.5).
// - A code found "issued" is a reuse: the grant and its tokens are revoked.
// - A write whose answer an outage lost may have been carried out all the same (the primary ran it and a
//   replica has it, the reply never came). The holder then withholds the tokens and, once the store answers
//   again, withdraws whatever marker of its own is there (lease or "issuing"); when it was "issued" that
//   failed so, the tokens go out all the same ("issuing" was acknowledged) and "issued" is written later.
//   Meanwhile "issuing" tells another redemption to try again: a code is never refused as reused for tokens
//   that did not go out.
// - A token request the engine refuses after consuming the code (what it checks after consume: the DPoP proof's
//   jti, a dpop_jkt binding, the account; or a write or audit record that failed) released no tokens, so
//   before it answers it withdraws its own lease and the client's retry is served at once; a lease contested
//   meanwhile revokes the grant all the same. With the store away, the lease is withdrawn (contested or not:
//   the contest may be the client's retry) once the store answers. The client, PKCE verifier and redirect_uri
//   are checked before consume (lib/actions/grants/authorization_code.js): refused for them, no lease is taken.
// Only the holder of the lease can turn it into "issuing", so a code's tokens are released once at most.
// "issued" also keeps what the engine checks of a code before it refuses a reuse (its client, expiry, grant,
// PKCE challenge and redirect_uri): the spent code's own record (about 0.6 KB) then goes, and a reuse within
// the code's lifetime is still found, checked and refused by the engine, which revokes the grant (RFC 6749
// 4.1.2). The marker is written before the record is deleted, so no reader finds the code gone and unspent.
// It leaves out the code's session binding, which the engine checks against the account id (the personal
// code): a reuse after the browser's session moved on to another login also deletes the code's grant, whose
// tokens that binding had already made unusable.
import { randomUUID } from 'node:crypto';
import Provider, { errors, type AdapterPayload, type KoaContextWithOIDC } from 'oidc-provider';
import { isStoreUnavailable, type Store, StoreUnavailableError } from '../store/store.ts';

/** Longer than a healthy token request (store commands, WAIT, the ID token signature) ever takes. */
export const REDEMPTION_LEASE_SECONDS = 10;

/** How often a marker left by a write whose answer was lost is settled again while the store is away. */
const SETTLE_EVERY_MS = 250;

const ISSUED = 'issued:';
const ISSUING = 'issuing:';
const PENDING = 'pending:';
const CONTESTED = 'contested:';

/** Another redemption of the code holds its lease (a client's duplicate request, or one an outage cut off), or
 * its tokens are on their way out or being withdrawn: trying again succeeds once that is settled, or is refused
 * as a reuse once its tokens are out. */
export class RedemptionUnderWay extends StoreUnavailableError {
  override name = 'RedemptionUnderWay';
}

/** A spent code's fields that the engine reads before it refuses a reuse (src/oidc/adapter.ts find()). */
const SPENT_FIELDS = ['exp', 'clientId', 'grantId', 'redirectUri', 'codeChallenge', 'codeChallengeMethod'] as const;

/** The "issued" marker of a code whose tokens go out now: the time, then its SPENT_FIELDS as a JSON array. */
function issuedMarker(code: AdapterPayload): string {
  return `${ISSUED}${epoch()} ${JSON.stringify(SPENT_FIELDS.map((field) => code[field] ?? null))}`;
}

/** The time the code's tokens were released, from its marker; undefined while it is unspent or leased. */
export function issuedAt(marker: string | undefined): number | undefined {
  if (!marker?.startsWith(ISSUED)) return undefined;
  const end = marker.indexOf(' ');
  return Number(marker.slice(ISSUED.length, end === -1 ? undefined : end));
}

/** The spent code an "issued" marker keeps, as the engine's record of a consumed code (without its id and
 * model); undefined for any other marker, one written without it (outside a token request, or by an earlier
 * version, which kept the code's record) and one that cannot be read. */
export function spentCode(marker: string | undefined): AdapterPayload | undefined {
  const consumed = issuedAt(marker);
  const start = marker?.indexOf(' ') ?? -1;
  if (consumed === undefined || start === -1) return undefined;
  try {
    const values = JSON.parse(marker!.slice(start + 1)) as unknown;
    if (!Array.isArray(values) || values.length !== SPENT_FIELDS.length) return undefined;
    const code: AdapterPayload = { consumed };
    SPENT_FIELDS.forEach((field, i) => {
      if (values[i] !== null) (code as Record<string, unknown>)[field] = values[i];
    });
    return code;
  } catch {
    return undefined;
  }
}

/** A lease this token request holds: `release` once its token response is ready, else `abandon`. */
type Redemption = { release: () => Promise<void>; abandon: () => Promise<void> };
type State = { codeRedemptions?: Redemption[]; foundCode?: { id: string; payload: AdapterPayload } };

/** The engine's token request under way, when consume() runs inside one (its AsyncLocalStorage context). */
function tokenRequest(): KoaContextWithOIDC | undefined {
  const ctx = Provider.ctx as KoaContextWithOIDC | undefined;
  return ctx?.oidc?.route === 'token' ? ctx : undefined;
}

const epoch = () => Math.floor(Date.now() / 1000);

/** A code as the adapter found it in this token request: the engine finds the code, checks it unspent and
 * consumes the same code right after, so consume() needs no second read (its expiry and grant). */
export function rememberFoundCode(id: string, payload: AdapterPayload): void {
  const ctx = tokenRequest();
  if (ctx) (ctx.state as State).foundCode = { id, payload };
}

/** Code `id` as rememberFoundCode() kept it in the token request under way; undefined elsewhere. */
export function codeOfTokenRequest(id: string): AdapterPayload | undefined {
  const found = (tokenRequest()?.state as State | undefined)?.foundCode;
  return found?.id === id ? found.payload : undefined;
}

/**
 * Run `settle` now and again while the store is away, until it gets an answer or `until` (epoch seconds)
 * has passed: by then the code, and its marker with it, has expired. The timers hold no process open.
 */
function settleLater(settle: () => Promise<unknown>, until: number): void {
  const attempt = () => {
    settle().catch((err: unknown) => {
      if (isStoreUnavailable(err) && epoch() < until) setTimeout(attempt, SETTLE_EVERY_MS).unref();
    });
  };
  attempt();
}

/** Run `write`; when an outage makes its outcome unknown, `settleLater` what it may have left behind. */
async function settledOnOutage<T>(write: () => Promise<T>, settle: () => Promise<unknown>, until: number) {
  try {
    return await write();
  } catch (err) {
    if (isStoreUnavailable(err)) settleLater(settle, until);
    throw err;
  }
}

/**
 * Spend a code: outside a token request at once; inside one, a lease turned into "issuing" and "issued" by
 * releaseOnceSpent() just before the response leaves. False when the code was already spent (a reuse: the
 * caller revokes); throws RedemptionUnderWay while another request holds its lease or its tokens are on
 * their way. `revoke` withdraws the grant when this request's own lease is contested.
 */
export async function spendCode(
  store: Store,
  marker: string,
  code: AdapterPayload,
  revoke: () => Promise<void>,
  forget: () => Promise<void>,
): Promise<boolean> {
  const lifetime = Math.max(1, (code.exp ?? epoch() + 1) - epoch());
  const ctx = tokenRequest();
  if (!ctx) return store.setIfAbsent(marker, `${ISSUED}${epoch()}`, lifetime);
  const id = randomUUID();
  const until = epoch() + lifetime;
  const withdraw = async () => {
    for (const mine of [ISSUING, PENDING, CONTESTED]) if (await store.compareAndDelete(marker, `${mine}${id}`)) return;
  };
  const lease = () => store.setIfAbsent(marker, `${PENDING}${id}`, REDEMPTION_LEASE_SECONDS);
  if (!(await settledOnOutage(lease, withdraw, until))) {
    const held = await store.get(marker);
    if (issuedAt(held) !== undefined) return false;
    // the holder's lease, contested for it to give up (it may run out, or go on to "issuing", meanwhile);
    // contested, "issuing", or gone since: the outcome is not known yet, so never a reuse
    if (held?.startsWith(PENDING))
      await store.compareAndSet(marker, held, `${CONTESTED}${held.slice(PENDING.length)}`, REDEMPTION_LEASE_SECONDS);
    throw new RedemptionUnderWay('this code is being redeemed by another request');
  }
  // another redemption contested this request's lease: the code was presented twice, a reuse
  const contested = async () => (await store.get(marker)) === `${CONTESTED}${id}`;
  // this request's own lease (never another's that took the code since this one ran out); contested, a reuse
  // whatever this request's own fate
  const giveUp = async () => {
    if (await store.compareAndDelete(marker, `${PENDING}${id}`)) return;
    if (await contested()) await revoke();
  };
  const state = ctx.state as State;
  state.codeRedemptions ??= [];
  const release = async () => {
    const issuing = () => store.compareAndSet(marker, `${PENDING}${id}`, `${ISSUING}${id}`, lifetime);
    if (!(await settledOnOutage(issuing, withdraw, until))) {
      if (await contested()) {
        await revoke();
        throw new errors.InvalidGrant('authorization code redeemed more than once');
      }
      throw new RedemptionUnderWay('the lease on this code ran out before its tokens were released');
    }
    // the tokens go out from here on; "issued" makes a later redemption a reuse at once
    const issued = issuedMarker(code);
    const confirm = () => store.compareAndSet(marker, `${ISSUING}${id}`, issued, lifetime);
    const confirmed = await settledOnOutage(confirm, confirm, until).catch((err: unknown) => {
      if (!isStoreUnavailable(err)) throw err;
    });
    // the marker now answers for the spent code; the response does not wait for this (a record left behind
    // by an outage is the spent code as before, and expires with it)
    if (confirmed) forget().catch(() => {});
  };
  state.codeRedemptions.push({
    release,
    // with the store away the answer is a 503 and the client's retry may well contest the lease before the
    // store is back: the lease is then withdrawn, contested or not, as for a withheld token response
    abandon: () =>
      settledOnOutage(giveUp, withdraw, until).catch((err: unknown) => {
        if (!isStoreUnavailable(err)) throw err;
      }),
  });
  return true;
}

/**
 * Engine middleware: a token response that spent a code leaves only once the code is marked as going out
 * ("issuing"). When that fails the tokens are withheld: a contested lease is answered invalid_grant, anything
 * else as a store outage (src/web/store-outage.ts reads ctx.state.storeOutage) so that the client may try
 * again. Any other answer (an error, thrown or answered) gives up the request's lease before it leaves.
 * Registered inside that outage guard.
 */
export function releaseOnceSpent(engine: Provider): void {
  const abandonAll = async (redemptions: Redemption[] = []) => {
    for (const redemption of redemptions) await redemption.abandon();
  };
  engine.use(async (ctx: KoaContextWithOIDC, next: () => Promise<void>) => {
    const state = ctx.state as State;
    try {
      await next();
    } catch (err) {
      await abandonAll(state.codeRedemptions);
      throw err;
    }
    const redemptions = state.codeRedemptions;
    if (!redemptions?.length) return;
    if (ctx.status !== 200) return abandonAll(redemptions);
    try {
      for (const redemption of redemptions) await redemption.release();
    } catch (err) {
      engine.emit('grant.error', ctx, err);
      if (!(err instanceof errors.OIDCProviderError)) {
        ctx.state.storeOutage = err;
        return;
      }
      ctx.status = err.statusCode;
      ctx.body = { error: err.error, error_description: err.error_description };
    }
  });
}
