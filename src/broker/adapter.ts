// The one small interface every provider module in providers/ implements.
// The broker owns all per-login state: an adapter returns `connData` from start(), the broker stores it
// with the login and, on the callback, parses it with the adapter's own schema before handing it back;
// the browser never sees it. What a kind declares to the core (its config schema, back channels,
// production rules, key material, demo peer) lives on its factory: src/registry/factory.ts.
import type { z } from 'zod';
import { constantTimeEqual } from '../constant-time.ts';
import type { Express } from 'express';
import type { RawIdentity } from '../identity/identity.ts';
import type { Loa } from '../identity/loa.ts';

export type {
  AdapterCheckContext,
  AdapterDeps,
  AdapterFactory,
  AdapterProblem,
  DemoMount,
  DemoPeer,
  EntryKit,
  KeyMaterial,
} from '../registry/factory.ts';
export { AdapterConfigError } from '../registry/factory.ts';

export type Locale = 'lv' | 'en';

export interface StartContext {
  /** broker state (27 url-safe characters); the adapter must get it back in the callback */
  state: string;
  /** absolute URL of the broker callback for this provider */
  callbackUrl: string;
  /** level the relying party asked for (undefined: none asked) */
  acr?: Loa | undefined;
  /** the language the provider is asked to speak (its protocols know Latvian and English) */
  locale: Locale;
  /** the language of the login's pages, Russian too: for the pages an adapter serves itself */
  pageLocale?: Locale | 'ru' | undefined;
  /** correlation id shared by every audit event of this login */
  correlationId: string;
  /** the agency service (client_id) this login is for, e.g. to name it in the provider's app */
  clientId?: string | undefined;
  /** the digest of the binding value of the browser that begins the login (src/web/browser-binding.ts):
   * pages an adapter serves itself for this login answer only requests whose AdapterDeps.browserOf() is it */
  browser: string;
}

export type StartAction =
  | { type: 'redirect'; url: string }
  /** an auto-submitting POST form (banklink 4012, SAML HTTP-POST binding) */
  | { type: 'form'; url: string; fields: Record<string, string> };

/**
 * Where start() sends the browser, and what the broker keeps for the callback.
 *
 * @example
 * return {
 *   action: { type: 'redirect', url: `https://eid.example/authorize?state=${ctx.state}` },
 *   connData: { nonce }, // must fit the adapter's connDataSchema
 *   requestDigest: `sha256:${digest}`,
 * };
 */
export interface StartResult<D = unknown> {
  action: StartAction;
  /** JSON-serialisable data the broker keeps for this login; parsed with the adapter's connDataSchema on the callback */
  connData: D;
  /** digest of what was sent to the provider, for the audit log */
  requestDigest?: string;
}

/** The window the provider's authentication time must fall in (./freshness.ts): both bounds travel together,
 * so no adapter can check the login's start and leave out the service's max_age. */
export interface AuthenticationWindow {
  /** when the broker started this login (ms since the epoch): the provider's authentication time must
   * not be earlier, or a reused single sign-on session would pass for a new login */
  loginStartedAt: number;
  /** when the service sent max_age: that many seconds before the answer arrived (ms since the epoch); the
   * authentication must not be older (src/login/verify.ts). Always stated, undefined without max_age. */
  authenticatedNotBefore: number | undefined;
}

export interface CallbackContext<D = unknown> extends AuthenticationWindow {
  /** query parameters (GET) or form fields (POST), as received */
  params: Record<string, string>;
  method: 'GET' | 'POST';
  /** what start() returned, already parsed with the adapter's connDataSchema */
  connData: D;
  /** the level the relying party asked for */
  acr?: Loa | undefined;
  callbackUrl: string;
  correlationId: string;
}

/**
 * A verified identity, as the provider stated it; the broker normalises it (personal code, names, level).
 *
 * @example
 * return {
 *   identity: { givenName: 'Jānis', familyName: 'Bērziņš', personalCode: '010180-15097', country: 'LV',
 *     loa: 'high', amr: ['smart_id'], authTime },
 *   responseDigest: `sha256:${digest}`,
 * };
 */
export interface CallbackResult {
  identity: RawIdentity;
  /** digest of the provider's response, for the audit log */
  responseDigest?: string;
}

/**
 * One configured provider: starts a login at the provider and verifies its answer. `D` is the per-login
 * data it keeps with the broker, described by `connDataSchema` (the broker refuses a login whose stored
 * data does not fit, as `invalid_response`, before callback() runs).
 *
 * @example
 * class ExampleAdapter implements ProviderAdapter<{ nonce: string }> {
 *   readonly id = 'example';
 *   readonly kind = 'example';
 *   readonly maxLoa = 'substantial';
 *   readonly connDataSchema = z.strictObject({ nonce: z.string() });
 *   async start(ctx: StartContext) {
 *     const nonce = randomBytes(16).toString('base64url');
 *     return { action: { type: 'redirect' as const, url: authorizeUrl(ctx.state, nonce) }, connData: { nonce } };
 *   }
 *   stateFrom(params: Record<string, string>) {
 *     return params.state;
 *   }
 *   async callback(ctx: CallbackContext<{ nonce: string }>) {
 *     const answer = await verifyAnswer(ctx.params, ctx.connData.nonce); // throws ProviderError
 *     return { identity: answer.identity };
 *   }
 * }
 */
export interface ProviderAdapter<D = unknown> {
  readonly id: string;
  /** the adapter kind, as registered in src/registry/adapters.ts */
  readonly kind: string;
  /** highest level this provider can deliver; used to filter providers against acr_values */
  readonly maxLoa: Loa;
  /** what start() returns as connData; the broker parses the stored value with it before callback() */
  readonly connDataSchema: z.ZodType<D>;
  start(ctx: StartContext): Promise<StartResult<D>>;
  /** Where the broker state travels in this protocol's callback (OIDC `state`, SAML `RelayState`, banklink `VK_RID`...). */
  stateFrom(params: Record<string, string>): string | undefined;
  /** Verify the provider's answer. Throws ProviderError for anything that is not a verified identity. */
  callback(ctx: CallbackContext<D>): Promise<CallbackResult>;
  /** Origins our pages send the browser to for this provider: its auto-POST form's target, or where the
   * answer to the provider choice redirects (browsers apply CSP form-action to redirects after a form
   * submission too). Called per response, so origins learnt from metadata count once known. */
  formActionOrigins?(): string[];
  /** Longest value each callback field may have, by field name; `*` for every other field. Fields are
   * refused beyond their limit (the gateway default applies when absent). */
  readonly callbackFieldLimits?: Readonly<Record<string, number>>;
  /** The character set (a WHATWG encoding label) of the provider's own page that posts the answer, when it is
   * not UTF-8: a browser submits a form in the encoding of its page (HTML, "Form submission"), so a bank's
   * WINDOWS-1257 page posts WINDOWS-1257 bytes. A posted answer that is valid UTF-8 is read as UTF-8 all the same. */
  readonly answerCharset?: string;
  /** Certificates this provider's logins rely on that a configuration change alone renews (a configured
   * responder's, say), each with what it is for (`role`, a short snake_case word) and its notAfter (ms since
   * the epoch): the gateway shows their expiry at the metrics scrape and warns as it nears
   * (src/tls/client-certificate-expiry.ts). */
  certificateExpiries?(): readonly { role: string; notAfter: number }[];
  /** Optional extra routes (SP metadata, a test IdP) mounted under /providers/:id. */
  routes?(app: Express, basePath: string): void;
  /** Called once the gateway listens: prefetch upstream metadata (discovery, JWKS). Failures must be
   * harmless (logged, retried on the next login), since a provider may be down at our start. */
  warmUp?(): void;
  /** Release sockets and timers. */
  close?(): Promise<void>;
}

/**
 * Call an adapter back as the broker does: the stored connData is parsed with the adapter's schema
 * first, and a login whose data does not fit (another adapter's, an older format, tampered storage) is
 * refused as `invalid_response` without reaching the adapter.
 */
export function runCallback<D>(adapter: ProviderAdapter<D>, ctx: CallbackContext<unknown>): Promise<CallbackResult> {
  const parsed = adapter.connDataSchema.safeParse(ctx.connData);
  if (!parsed.success)
    return Promise.reject(new ProviderError('invalid_response', `login carries no ${adapter.kind} request data`));
  return adapter.callback({ ...ctx, connData: parsed.data });
}

/** Why a provider round trip failed; each maps to an OAuth error for the relying party. */
export type ProviderErrorCode =
  | 'user_cancel' // the user cancelled at the provider
  | 'access_denied' // the provider refused the user
  | 'temporarily_unavailable' // the provider is down or answered with a server error
  | 'invalid_response' // forged, malformed, replayed or otherwise unverifiable answer
  | 'loa_too_low'; // verified, but below what the relying party asked for

/**
 * The one error an adapter throws for an answer that is not a verified identity. `detail` is for
 * operators (logs, audit) and must carry no personal data; the user sees only what `code` maps to.
 *
 * @example
 * if (params.error === 'access_denied') throw new ProviderError('user_cancel', 'user cancelled at the provider');
 * if (!constantTimeEqual(payload.nonce, ctx.connData.nonce)) throw new ProviderError('invalid_response', 'nonce mismatch');
 */
export class ProviderError extends Error {
  override name = 'ProviderError';
  readonly code: ProviderErrorCode;
  /** operator detail: goes to structured logs and audit, never to the user; no personal data */
  readonly detail: string;
  /** the adapter's own page already told the user why (a decoupled flow's waiting page): the broker
   * then hands the error straight back to the service instead of showing its own page too */
  readonly userInformed: boolean;
  constructor(code: ProviderErrorCode, detail: string, options: { userInformed?: boolean } = {}) {
    super(`${code}: ${detail}`);
    this.code = code;
    this.detail = detail;
    this.userInformed = options.userInformed ?? false;
  }
}

/** Whether a request's browser (its AdapterDeps.browserOf digest) is the one that began a login (the digest
 * kept from StartContext.browser). Neither missing matches: a login kept without one (begun before the
 * binding) is served to no browser. */
export function isBeginningBrowser(digest: string | undefined, began: unknown): boolean {
  return digest !== undefined && typeof began === 'string' && constantTimeEqual(digest, began);
}
