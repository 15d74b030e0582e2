// What every step of the login (./flow.ts) is given, and what it answers: an Outcome that src/web turns
// into HTTP (a redirect, a page, or the engine's interactionFinished) without deciding anything itself.
import type Provider from 'oidc-provider';
import type { InteractionResults } from 'oidc-provider';
import type { AuditLog } from '../audit/events.ts';
import type { Logger } from '../logger.ts';
import type { Store } from '../store/store.ts';
import type { StartAction } from '../broker/adapter.ts';
import type { Accounts } from './accounts.ts';
import type { Broker } from './broker.ts';
import type { ProviderPolicy, ProviderChoice } from './policy.ts';
import type { JsonRecords } from './records.ts';
import type { LoginResult } from './callback.ts';

/** The engine's view of the authorization request a login answers. */
export type Interaction = Pick<
  Awaited<ReturnType<Provider['interactionDetails']>>,
  'uid' | 'prompt' | 'params' | 'session' | 'grantId'
>;

export interface LoginLimits {
  /** provider round trips one interaction may start (limits.provider_starts) */
  providerStarts: number;
  /** lifetime of an interaction: how long its markers (audited, ended, starts) are needed */
  interactionTtlSeconds: number;
  /** how long a provider's verified answer waits for the hand-back */
  resultTtlSeconds: number;
}

export interface LoginDeps {
  /** the engine's models: grants are created at the hand-back, which finds the interaction (and the session
   * it began in) itself at a callback; clients are named on the selection page */
  engine: Pick<Provider, 'Grant' | 'Client' | 'Interaction' | 'Session'>;
  broker: Broker;
  policy: ProviderPolicy;
  accounts: Accounts;
  store: Store;
  audit: AuditLog;
  logger: Logger;
  limits: LoginLimits;
  /** each login's result between its callback (step 3) and the hand-back (step 7), single use */
  results: JsonRecords<LoginResult>;
  /** a service's home page (src/oidc/clients.ts): the way back once its login can no longer end there */
  serviceHome(clientId: unknown): string | undefined;
}

/** Why the user sees a page instead of going on; src/web/i18n.ts words each as `error_<problem>`. */
export type Problem =
  | 'generic'
  | 'provider'
  | 'provider_unavailable'
  | 'too_many_starts'
  | 'interrupted'
  | 'expired'
  | 'other_browser'
  | 'state'
  | 'too_large'
  | 'access_denied'
  | 'invalid_response'
  | 'loa_too_low'
  | 'unavailable';

/** Why the user ends a login from a page of ours (./ending.ts maps each to an OAuth error). */
export type EndReason = 'cancel' | 'interrupted' | 'expired' | 'too_many_starts' | 'unavailable' | 'rate_limited';

/** The way back from a page of login `uid`, which ends it with the OAuth error of `reason`; `clientId`, where
 * known, rides along in the form, so that a login expired meanwhile still links to its service's home page. */
export interface LoginEnd {
  uid: string;
  reason: EndReason;
  clientId?: string | undefined;
}

export type Outcome =
  /** on to the provider (or back to the hand-back): a redirect or an auto-submitting form */
  | StartAction
  | { type: 'choose'; uid: string; clientId: string; clientName: string; providers: ProviderChoice[] }
  /** the engine's interactionFinished; `merge` keeps the earlier submission (consent after login) */
  | { type: 'finish'; result: InteractionResults; merge?: boolean }
  /** a page saying why not, with its ways on (WayBack) */
  | ({ type: 'refuse'; status: number; problem: Problem } & WayBack);

/** Where a page saying why not lets the user go on (the refuse step, and the error page that shows it). */
export interface WayBack {
  /** a link on to the hand-back, which ends the login at the service */
  back?: string | undefined;
  /** a button that ends the login of interaction `uid` with an OAuth error (./ending.ts; the way back when
   * no result waits) */
  end?: LoginEnd | undefined;
  /** the service's home page: the way back when the login can no longer end at the service */
  home?: string | undefined;
  /** the selection page, to try another provider */
  retry?: string | undefined;
  /** the login's correlation id in the audit log (`vpm-gateway audit query --correlation`) */
  reference?: string | undefined;
  /** go `back` by itself after the configured delay (a refusal: the service must hear back) */
  autoReturn?: boolean | undefined;
}

/** The page that ends a login at the service: where the hand-back (step 7) is reached from. */
export const handBackPath = (uid: string): string => `/interaction/${uid}/complete`;
