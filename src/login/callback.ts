// Step 3 of the login (./flow.ts): the provider's answer. The broker finds the login by its own state
// (the interaction cookie does not travel on cross-site POSTs) and has it verified (steps 4-6). A verified
// identity is handed back at once (step 7, ./hand-back.ts); a failure waits, single use, for the hand-back
// behind the page that explains it. Whatever the provider (or someone posing as it) sends, the answer is a
// 4xx page with an audit record, and the service hears back whenever the login is known.
import type { UiLocale } from './locale.ts';
import type { Identity } from '../identity/identity.ts';
import { BrokerError } from './broker-error.ts';
import type { LoginRecord } from './login-state.ts';
import { resumeOnceHandedBack } from './resubmission.ts';
import { handBackAtCallback } from './hand-back.ts';
import { handBackPath, type EndReason, type LoginDeps, type Outcome, type Problem } from './step.ts';

export type LoginResult =
  | { ok: true; identity: Identity; correlationId: string }
  | { ok: false; error: string; description: string; problem: Problem };

/** Broker failure -> OAuth error for the relying party and what the user is told. */
export const OAUTH_ERRORS: Record<string, { error: string; description: string; problem: Problem }> = {
  user_cancel: { error: 'user_cancel', description: 'the user cancelled the authentication', problem: 'generic' },
  access_denied: {
    error: 'access_denied',
    description: 'the provider refused the authentication',
    problem: 'access_denied',
  },
  temporarily_unavailable: {
    error: 'temporarily_unavailable',
    description: 'the provider is temporarily unavailable',
    problem: 'provider_unavailable',
  },
  invalid_response: {
    error: 'access_denied',
    description: 'the provider answer could not be verified',
    problem: 'invalid_response',
  },
  loa_too_low: {
    error: 'unmet_authentication_requirements',
    description: 'the authentication does not meet the requested level of assurance',
    problem: 'loa_too_low',
  },
  withdrawn: {
    error: 'temporarily_unavailable',
    description: 'the provider is no longer offered (suspended in the VPM joining process)',
    problem: 'provider_unavailable',
  },
  audit_unavailable: {
    error: 'temporarily_unavailable',
    description: 'the login service is temporarily unavailable',
    problem: 'unavailable',
  },
  other_browser: {
    error: 'access_denied',
    description: 'the provider answer arrived in another browser than the login began in',
    problem: 'other_browser',
  },
};

/** Refusals after which another provider may well succeed (this one refused or was unreachable, or its
 * level was too low); a forged or unverifiable answer is not one of them. */
const RETRY_PROBLEMS: ReadonlySet<Problem> = new Set(['access_denied', 'provider_unavailable', 'loa_too_low']);

/** What the browser sees after a callback, in the login's language when the login is known. */
export interface CallbackOutcome {
  outcome: Outcome;
  locale: UiLocale | undefined;
}

/** A callback without a live login: it cannot go on, but the user gets the way back when known. */
function deadEnd(err: BrokerError): Outcome {
  const { spent } = err;
  // a state never used: the answer came after the login's lifetime (ttl.login) ran out
  const expired = spent?.used === false;
  const problem: Problem =
    err.code === 'unknown_provider'
      ? 'provider'
      : err.code === 'oversized'
        ? 'too_large'
        : spent
          ? expired
            ? 'expired'
            : 'interrupted'
          : 'state';
  const reason: EndReason = expired ? 'expired' : 'interrupted';
  const end = spent ? { uid: spent.uid, reason, clientId: spent.clientId } : undefined;
  return {
    type: 'refuse',
    status: err.code === 'unknown_provider' ? 404 : 400,
    problem,
    end,
    reference: spent?.uid,
  };
}

/** An answer posted again by its browser goes on to the login's resume once it was verified there
 * (./resubmission.ts); anything else without a live login is a dead end. */
async function resubmittedOr(deps: LoginDeps, err: BrokerError): Promise<Outcome> {
  const resume = err.code === 'resubmitted' && err.spent ? await resumeOnceHandedBack(deps, err.spent.uid) : undefined;
  return resume ?? deadEnd(err);
}

export async function receiveAnswer(
  deps: LoginDeps,
  providerId: string,
  params: Record<string, string>,
  method: 'GET' | 'POST',
  browser: string | undefined,
): Promise<CallbackOutcome> {
  let result: LoginResult;
  let uid: string;
  let locale: UiLocale;
  let userInformed = false;
  let clientId: string;
  let acr: LoginRecord['acr'];
  let elsewhere = false;
  let began: string | undefined;
  try {
    const { login, identity } = await deps.broker.complete(providerId, params, method, browser);
    ({ uid, locale, clientId, acr } = login);
    began = login.browser;
    result = { ok: true, identity, correlationId: login.correlationId };
  } catch (err) {
    if (!(err instanceof BrokerError)) throw err;
    if (!err.login) return { outcome: await resubmittedOr(deps, err), locale: err.spent?.locale };
    ({ uid, locale, clientId, acr } = err.login);
    userInformed = err.userInformed;
    elsewhere = err.code === 'other_browser';
    result = { ok: false, ...(OAUTH_ERRORS[err.code] ?? OAUTH_ERRORS.invalid_response!) };
  }
  // a provider suspended while the user was with it: whatever it answered, this login ends here
  if (!deps.policy.allows(clientId, providerId, acr)) {
    result = { ok: false, ...OAUTH_ERRORS.withdrawn! };
    userInformed = false;
    await deps.audit.record({
      type: 'verification_error',
      correlationId: uid,
      clientId,
      providerId,
      detail: { code: result.error, reason: result.description },
    });
  }
  if (result.ok) {
    const { identity, correlationId } = result;
    return {
      outcome: await handBackAtCallback(deps, { uid, clientId, identity, correlationId, browser: began }),
      locale,
    };
  }
  await deps.results.set(uid, result);
  // this browser did not begin the login: the way back is the beginning browser's (it hears the failure
  // there); this one is only told why
  if (elsewhere) return { outcome: { type: 'refuse', status: 400, problem: 'other_browser', reference: uid }, locale };
  const back = handBackPath(uid);
  // A cancel goes straight back to the service, as does a failure the provider's own page already
  // explained; any other failure first tells the user what happened and then returns by itself; where
  // another provider may do, the selection page is offered too.
  if (result.error === 'user_cancel' || userInformed) return { outcome: { type: 'redirect', url: back }, locale };
  const retry = RETRY_PROBLEMS.has(result.problem) ? `/interaction/${uid}` : undefined;
  return {
    outcome: { type: 'refuse', status: 400, problem: result.problem, back, retry, reference: uid, autoReturn: true },
    locale,
  };
}

/** A callback body beyond every limit never reaches the broker: refused, audited, a 400 page. */
export async function refuseOversizedBody(deps: LoginDeps, providerId: string, reason: string): Promise<Outcome> {
  deps.logger.warn('provider callback refused', { providerId, reason });
  await deps.audit.record({
    type: 'provider_response_error',
    providerId: deps.broker.has(providerId) ? providerId : undefined,
    detail: { reason },
  });
  return { type: 'refuse', status: 400, problem: 'too_large' };
}
