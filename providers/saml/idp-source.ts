// Where the adapter learns its IdP: configured directly, or from metadata (a file or a URL) that is
// re-read every refresh interval. While the last good metadata is valid a refresh runs in the background
// and logins go on with it; a refresh that fails keeps it, but only until its validUntil: after that
// logins wait for a load and fail closed (temporarily_unavailable) until valid metadata is back.
import { readFile } from 'node:fs/promises';
import { ProviderError } from '../../src/broker/adapter.ts';
import type { Logger } from '../../src/logger.ts';
import { BodyTooLargeError, readBoundedBody } from '../../src/tls/bounded-body.ts';
import { CertificateValidity } from '../../src/tls/certificate-validity.ts';
import { Checker, type Finding } from '../../src/tls/material-checks.ts';
import { MetadataError, parseIdpMetadata, type IdpDescription, type MetadataOptions } from './idp-metadata.ts';

export interface IdpSource {
  /** the IdP as currently known; throws ProviderError when there is no valid description */
  current(now?: number): Promise<IdpDescription>;
  /** the last description loaded, without loading (may be stale) */
  known(): IdpDescription | undefined;
}

export function staticIdp(idp: IdpDescription): IdpSource {
  return { current: async () => idp, known: () => idp };
}

/** Production refuses an expired signing certificate at start and on every metadata refresh; one that expires
 * while the gateway runs (configured in idp.certificates, or in the last good metadata kept while refreshes
 * fail or bring it again) stops verifying responses too, or it would be trusted for as long as the process
 * lives. With none left the IdP is unavailable (temporarily_unavailable) until a valid one is configured. */
export function unexpiredSigning(source: IdpSource, production: boolean): IdpSource {
  if (!production) return source;
  const validity = new CertificateValidity<string>();
  return {
    known: () => source.known(),
    current: async (now = Date.now()) => {
      const idp = await source.current(now);
      const certificates = idp.certificates.filter((pem) => validity.validAt(pem, now));
      if (certificates.length === 0)
        throw new ProviderError('temporarily_unavailable', 'every IdP signing certificate has expired');
      return certificates.length === idp.certificates.length ? idp : { ...idp, certificates };
    },
  };
}

export interface MetadataSourceOptions extends Omit<MetadataOptions, 'now'> {
  /** human name of the origin for messages: the file path or URL */
  origin: string;
  load(): Promise<string>;
  /** the binding the adapter sends requests by: its SSO location must be in the metadata */
  binding: 'redirect' | 'post';
  refreshMs: number;
  logger: Logger;
  /** production: every SingleSignOnService location must be https and the signing certificates pass the
   * key checks (development logs what they find), on every refresh as at startup */
  production?: boolean;
}

export class MetadataIdpSource implements IdpSource {
  private readonly options: MetadataSourceOptions;
  private description: IdpDescription | undefined;
  private loadedAt = 0;
  private inflight: Promise<void> | undefined;

  constructor(options: MetadataSourceOptions) {
    this.options = options;
  }

  /** Load now; throws MetadataError (or the loader's error) when the metadata is unusable. */
  async load(now = Date.now()): Promise<IdpDescription> {
    const xml = await this.options.load();
    const parsed = parseIdpMetadata(xml, { ...this.options, now });
    if (!parsed.ssoUrls[this.options.binding])
      throw new MetadataError(
        `metadata has no SingleSignOnService for the HTTP-${this.options.binding === 'post' ? 'POST' : 'Redirect'} binding`,
      );
    // a refreshed document is as untrusted as the first: an http location would send the AuthnRequest
    // (and the user) over plain http, so it is refused and the last good metadata kept
    if (this.options.production && !Object.values(parsed.ssoUrls).every((u) => u?.startsWith('https://')))
      throw new MetadataError('its SingleSignOnService locations must be https in production');
    // a signing certificate from metadata is trusted as much as one in idp.certificates, so it meets the
    // same minimums: otherwise a 1024-bit key refused there would verify responses when published here
    const findings = signingCertificateFindings(parsed.certificates, this.options.production ?? false, now);
    const refused = findings.filter((f) => f.severity === 'error');
    if (refused.length) throw new MetadataError(describe(refused));
    for (const finding of findings)
      this.options.logger.warn('SAML IdP metadata signing certificate would be refused in production', {
        origin: this.options.origin,
        detail: describe([finding]),
      });
    this.description = parsed;
    this.loadedAt = now;
    return parsed;
  }

  private refresh(now: number): Promise<void> {
    this.inflight ??= this.load(now)
      .then(
        () => undefined,
        (err: unknown) => {
          // keep the last good metadata; retry no sooner than a tenth of the interval
          this.loadedAt = now - this.options.refreshMs + Math.ceil(this.options.refreshMs / 10);
          this.options.logger.warn('SAML IdP metadata could not be refreshed', {
            origin: this.options.origin,
            detail: errorDetail(err),
          });
        },
      )
      .finally(() => {
        this.inflight = undefined;
      });
    return this.inflight;
  }

  known(): IdpDescription | undefined {
    return this.description;
  }

  /** Resolves once no refresh is in flight (a background refresh included). */
  async settled(): Promise<void> {
    await this.inflight;
  }

  async current(now = Date.now()): Promise<IdpDescription> {
    const valid = this.description && !expired(this.description, now);
    // only a login with no valid metadata at all waits for the load (bounded by the loader's deadline);
    // otherwise a slow or stalled metadata host must not hold logins that the last good metadata serves
    if (!valid) await this.refresh(now);
    else if (now - this.loadedAt >= this.options.refreshMs) void this.refresh(now);
    const description = this.description;
    if (!description) throw new ProviderError('temporarily_unavailable', 'IdP metadata is not available');
    if (expired(description, now))
      throw new ProviderError(
        'temporarily_unavailable',
        'IdP metadata expired (validUntil passed) and no valid replacement could be loaded',
      );
    return description;
  }
}

const expired = (description: IdpDescription, now: number) =>
  description.validUntil !== undefined && description.validUntil <= now;

/** The startup checks of configured certificates (RSA below MIN_RSA_BITS, DSA, expired or not yet valid,
 * SHA-1-signed): production errors, development warnings. */
function signingCertificateFindings(pems: readonly string[], production: boolean, now: number): Finding[] {
  // no expiry-soon notices (0 days): metadata rolls its certificates over by itself
  const checker = new Checker(production, new Date(now), 0, () => {
    throw new Error('inline PEM only');
  });
  pems.forEach((pem, i) => {
    checker.pemField(pem, [i]);
  });
  return checker.findings;
}

const describe = (findings: Finding[]) =>
  findings.map((f) => `signing certificate ${Number(f.path[0]) + 1}: ${f.message}`).join('; ');

export function errorDetail(err: unknown): string {
  if (err instanceof MetadataError) return err.message;
  const error = err as { message?: string; cause?: { message?: string; code?: string } };
  return [error.message, error.cause?.code ?? error.cause?.message].filter(Boolean).join(': ').slice(0, 300);
}

export function fileLoader(path: string): () => Promise<string> {
  return () => readFile(path, 'utf8');
}

/** Fetch metadata with the provider's transport; no redirects, bounded size, 2xx only, and all of it
 * within `timeoutMs`: the transport's idle timeouts never end a body that drips a byte at a time. */
export function urlLoader(
  url: string,
  fetch: typeof globalThis.fetch,
  maxBytes: number,
  timeoutMs: number,
): () => Promise<string> {
  return async () => {
    const signal = AbortSignal.timeout(timeoutMs);
    try {
      return await fetchMetadata(url, fetch, maxBytes, signal);
    } catch (err) {
      if (signal.aborted) throw new MetadataError(`metadata URL did not answer in full within ${timeoutMs / 1000} s`);
      throw err;
    }
  };
}

async function fetchMetadata(
  url: string,
  fetch: typeof globalThis.fetch,
  maxBytes: number,
  signal: AbortSignal,
): Promise<string> {
  const res = await fetch(url, {
    headers: { accept: 'application/samlmetadata+xml, application/xml;q=0.9, text/xml;q=0.8' },
    redirect: 'error',
    signal,
  });
  if (!res.ok) {
    await res.body?.cancel();
    throw new MetadataError(`metadata URL answered HTTP ${res.status}`);
  }
  let body: Buffer;
  try {
    body = await readBoundedBody(res, maxBytes);
  } catch (err) {
    if (err instanceof BodyTooLargeError) throw new MetadataError(`metadata larger than ${maxBytes} bytes`);
    throw err;
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch {
    throw new MetadataError('metadata is not valid UTF-8');
  }
}
