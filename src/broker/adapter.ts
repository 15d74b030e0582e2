// The one small interface every provider module in providers/ implements (after dex's CallbackConnector).
// The broker owns all per-login state: an adapter returns opaque `connData` from start(), the broker
// stores it with the login and hands it back on the callback; the browser never sees it.
import type { z } from 'zod';
import type { RawIdentity } from '../identity/identity.ts';
import type { Loa } from '../identity/loa.ts';
import type { Store } from '../store/store.ts';
import type { AuditLog } from '../audit/events.ts';
import type { Logger } from '../logger.ts';
import type { Express } from 'express';

export type Locale = 'lv' | 'en';

export interface StartContext {
  /** broker state (27 url-safe characters); the adapter must get it back in the callback */
  state: string;
  /** absolute URL of the broker callback for this provider */
  callbackUrl: string;
  /** level the relying party asked for (undefined: none asked) */
  acr?: Loa | undefined;
  locale: Locale;
  /** correlation id shared by every audit event of this login */
  correlationId: string;
}

export type StartAction =
  | { type: 'redirect'; url: string }
  /** an auto-submitting POST form (banklink 4012, SAML HTTP-POST binding) */
  | { type: 'form'; url: string; fields: Record<string, string> };

export interface StartResult {
  action: StartAction;
  /** JSON-serialisable data the broker keeps for this login and returns on the callback */
  connData: unknown;
  /** digest of what was sent to the provider, for the audit log */
  requestDigest?: string;
}

export interface CallbackContext {
  /** query parameters (GET) or form fields (POST), as received */
  params: Record<string, string>;
  method: 'GET' | 'POST';
  connData: unknown;
  /** the level the relying party asked for */
  acr?: Loa | undefined;
  callbackUrl: string;
  correlationId: string;
  /** when the broker started this login (ms since the epoch): the provider's authentication time must
   * not be earlier (see freshness.ts), or a reused single sign-on session would pass for a new login */
  loginStartedAt: number;
}

export interface CallbackResult {
  identity: RawIdentity;
  /** digest of the provider's response, for the audit log */
  responseDigest?: string;
}

export interface ProviderAdapter {
  readonly id: string;
  /** adapter kind: 'mock' | 'banklink' | 'oidc' | 'saml' */
  readonly kind: string;
  /** highest level this provider can deliver; used to filter providers against acr_values */
  readonly maxLoa: Loa;
  start(ctx: StartContext): Promise<StartResult>;
  /** Where the broker state travels in this protocol's callback (OIDC `state`, SAML `RelayState`, banklink `VK_RID`...). */
  stateFrom(params: Record<string, string>): string | undefined;
  /** Verify the provider's answer. Throws ProviderError for anything that is not a verified identity. */
  callback(ctx: CallbackContext): Promise<CallbackResult>;
  /** Origins our pages send the browser to for this provider: its auto-POST form's target, or where the
   * answer to the provider choice redirects (browsers apply CSP form-action to redirects after a form
   * submission too). Called per response, so origins learnt from metadata count once known. */
  formActionOrigins?(): string[];
  /** Longest value each callback field may have, by field name; `*` for every other field. Fields are
   * refused beyond their limit (the gateway default applies when absent). */
  readonly callbackFieldLimits?: Readonly<Record<string, number>>;
  /** Optional extra routes (SP metadata, a test IdP) mounted under /providers/:id. */
  routes?(app: Express, basePath: string): void;
  /** Called once the gateway listens: prefetch upstream metadata (discovery, JWKS). Failures must be
   * harmless (logged, retried on the next login), since a provider may be down at our start. */
  warmUp?(): void;
  /** Release sockets and timers. */
  close?(): Promise<void>;
}

/** Why a provider round trip failed; each maps to an OAuth error for the relying party. */
export type ProviderErrorCode =
  | 'user_cancel' // the user cancelled at the provider
  | 'access_denied' // the provider refused the user
  | 'temporarily_unavailable' // the provider is down or answered with a server error
  | 'invalid_response' // forged, malformed, replayed or otherwise unverifiable answer
  | 'loa_too_low'; // verified, but below what the relying party asked for

export class ProviderError extends Error {
  override name = 'ProviderError';
  readonly code: ProviderErrorCode;
  /** operator detail: goes to structured logs and audit, never to the user; no personal data */
  readonly detail: string;
  constructor(code: ProviderErrorCode, detail: string) {
    super(`${code}: ${detail}`);
    this.code = code;
    this.detail = detail;
  }
}

export interface AdapterDeps {
  store: Store;
  audit: AuditLog;
  logger: Logger;
  /** the gateway's public base URL (issuer origin) */
  baseUrl: string;
  production: boolean;
  /** directory for generated key material (SP keys and the like) */
  keyDir: string;
}

/** What an adapter kind's own rules may depend on besides its entry. */
export interface AdapterCheckContext {
  production: boolean;
  /** the gateway's public base URL (issuer origin) */
  baseUrl: string;
}

/** One problem with a provider entry; `path` is relative to the entry (`['url']`, `['metadata', 'jwks_uri']`). */
export interface AdapterProblem {
  path: readonly (string | number)[];
  message: string;
}

/** A registered adapter kind: its config schema (validated with the whole file) and a factory. */
export interface AdapterFactory<C = any> {
  kind: string;
  /** zod schema of one provider entry of this kind (`id`, `type`, `name`, ... are common) */
  schema: z.ZodType<C>;
  /**
   * The kind's own rules (what production mode refuses), run by `config check` and before `start`
   * writes anything. Must not touch the network or write files; may read the files the entry names.
   */
  check?(config: C, ctx: AdapterCheckContext): AdapterProblem[] | Promise<AdapterProblem[]>;
  create(config: C, deps: AdapterDeps): Promise<ProviderAdapter> | ProviderAdapter;
}

/** Thrown when an adapter is created from an entry its kind's `check` refuses (callers that skipped the check). */
export class AdapterConfigError extends Error {
  override name = 'AdapterConfigError';
  constructor(id: string, problems: AdapterProblem[]) {
    super(`provider ${id}: ${problems.map((p) => `${p.path.join('.')}: ${p.message}`).join('; ')}`);
  }
}
