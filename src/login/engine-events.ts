// What the engine does on its own after the hand-back, in the audit log of the same login: tokens issued
// (or refused), authorization requests it refused before or after the login, logouts. The login's
// correlation id is its interaction uid; tokens find it through the account stored under their grant.
import { finished } from 'node:stream';
import type { default as Provider, KoaContextWithOIDC } from 'oidc-provider';
import { boundedRecords, type RecordAnonymous, recorderFor } from '../audit/bounded-records.ts';
import { AuditUnavailableError, type AuditLog } from '../audit/events.ts';
import type { Logger } from '../logger.ts';
import type { Accounts } from './accounts.ts';
import type { Broker } from './broker.ts';
import { isStoreUnavailable, type Store } from '../store/store.ts';
import type { LimitsConfig } from '../config/schema.ts';
import { clientKey } from './client-key.ts';

/** An engine route met a store that refuses a write (away, full) or an audit log that cannot record: the
 * client may try again later. */
export function isEngineOutage(err: unknown): boolean {
  return isStoreUnavailable(err) || err instanceof AuditUnavailableError;
}

export interface EngineAuditDeps {
  audit: AuditLog;
  logger: Logger;
  accounts: Accounts;
  broker: Broker;
  store: Store;
  limits: Pick<LimitsConfig, 'token_errors' | 'window_seconds'>;
  /** how a record no login can be found for is written (src/audit/bounded-records.ts); default audit.record */
  recordAnonymous?: RecordAnonymous | undefined;
}

/** The engine's audit records still being made: each comes after a store round trip, and some only once the
 * answer is sent, so a drained listener does not mean they are written. */
export interface EngineAudit {
  /** resolves once every record begun so far is written or has failed: awaited before the audit log closes */
  settled(): Promise<void>;
}

export function auditEngineEvents(engine: Provider, deps: EngineAuditDeps): EngineAudit {
  const { audit, logger, accounts, broker } = deps;
  // the token endpoint needs no session: a flood of made-up requests must not grow the durable log at will
  const tokenErrors = boundedRecords(deps, 'token_error', (limits) => limits.token_errors);
  const pending = new Set<Promise<void>>();
  const track = (work: Promise<void>) => {
    pending.add(work);
    void work.finally(() => pending.delete(work));
  };
  // the answer is already sent: a record that cannot be written is the operator's to know of
  const unrecorded = (type: string) => (err: Error) =>
    logger.error('audit of an engine event failed', { type, message: err.message });
  engine.on('grant.success', (ctx) => {
    const code = ctx.oidc.entities.AuthorizationCode;
    // the answer may still withhold the tokens (src/oidc/code-redemption.ts): recorded once it is final;
    // tracked from now, as its connection may close only while the listeners drain. finished() also calls
    // back for a response already closed (the service gave up waiting): a 'close' listener would wait forever
    track(
      new Promise<void>((done) =>
        finished(ctx.res, () => done(ctx.status === 200 ? recordIssued(ctx, code?.grantId) : undefined)),
      ),
    );
  });
  const recordIssued = (ctx: KoaContextWithOIDC, grantId: string | undefined) =>
    (async () => {
      const account = grantId ? await accounts.getIn(ctx, grantId) : undefined;
      await audit.record({
        type: 'tokens_issued',
        clientId: ctx.oidc.client?.clientId,
        correlationId: account?.correlationId,
        providerId: account?.identity.idp,
        detail: { grant_type: ctx.oidc.params?.grant_type, grant_id: grantId, acr: account?.identity.loa },
      });
    })().catch(unrecorded('tokens_issued'));
  engine.on('grant.error', (ctx, err) => {
    const clientId = ctx.oidc.client?.clientId;
    const address = clientKey((ctx.req as { ip?: string }).ip ?? ctx.ip);
    const failed = { type: 'tokens_issued_error', clientId, detail: { error: err.message } } as const;
    track(tokenErrors(failed, { address, clientId }).catch(unrecorded('tokens_issued_error')));
  });
  engine.on('authorization.error', (ctx, err) => {
    // the login's provider is the one last started (when the error comes from a finished interaction),
    // else the idp_hint the request named
    const uid = ctx.oidc?.entities?.Interaction?.uid;
    const hint = ctx.oidc?.params?.idp_hint;
    const work = async () => {
      const providerId =
        (uid ? (await broker.loginOf(uid))?.providerId : undefined) ??
        (typeof hint === 'string' && broker.has(hint) ? hint : undefined);
      // refused before it became a login: anyone's to send
      await recorderFor(
        audit,
        deps.recordAnonymous,
        !!uid,
      )({
        type: 'authorization_request_error',
        correlationId: uid,
        clientId: ctx.oidc?.client?.clientId,
        providerId,
        detail: {
          error: (err as { error?: string }).error ?? err.name,
          description: (err as { error_description?: string }).error_description,
        },
      });
    };
    track(work().catch(unrecorded('authorization_request_error')));
  });
  engine.on('end_session.success', (ctx) => {
    // The engine ends a browser's session by itself when another person logs in in it (its resume finds an
    // account other than the session's): that logout goes on to the new login's resume, /auth/<uid>, and is
    // recorded under that login, not as the service's request. (Emitted before the redirect is set: the
    // destination is still in the session's logout state.)
    const next = (ctx.oidc.session?.state as { postLogoutRedirectUri?: unknown } | undefined)?.postLogoutRedirectUri;
    const resumeAt = `${ctx.oidc.issuer}/auth/`;
    const resume = typeof next === 'string' && next.startsWith(resumeAt) ? next.slice(resumeAt.length) : undefined;
    track(
      audit
        .record({
          type: 'logout',
          clientId: ctx.oidc.client?.clientId,
          correlationId: resume,
          detail: resume ? { initiator: 'gateway', reason: 'another person logged in' } : { initiator: 'service' },
        })
        .catch(unrecorded('logout')),
    );
  });
  engine.on('server_error', (_ctx, err) => {
    // no fault of the engine's: src/web/store-outage.ts answers it (retry page, or temporarily_unavailable)
    // and logs it
    if (!isEngineOutage(err)) logger.error('oidc server error', { error: err.name, message: err.message });
  });
  return {
    async settled() {
      // records begun while waiting (another answer's close) are waited for too
      while (pending.size) await Promise.allSettled([...pending]);
    },
  };
}
