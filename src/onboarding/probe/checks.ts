// The VPM security levels checked against one provider endpoint: (1) encrypted with strong algorithms
// (TLS 1.2 or later only, AEAD suites only, a chain that verifies, keys of 2048+ bits RSA, no SHA-1
// signatures, not expiring within the warning period); (2) mutually authenticated (the endpoint refuses
// a connection without the gateway's client certificate and accepts one with it).
import type { X509Certificate } from 'node:crypto';
import type tls from 'node:tls';
import { MIN_RSA_BITS } from '../../tls/material-checks.ts';
import { type Endpoint, handshake } from './handshake.ts';

export interface CheckResult {
  check: 'tls_versions' | 'aead_only' | 'chain' | 'key_strength' | 'mutual_auth';
  ok: boolean;
  detail: string;
}

export interface EndpointProbeOptions {
  /** PEM of the CAs the gateway trusts for this provider (default: the system store) */
  ca?: string | undefined;
  /** the gateway's client certificate and key for this provider (PEM) */
  cert?: string | undefined;
  key?: string | undefined;
  warningDays: number;
  now?: Date;
  /** a back channel (server to server): must demand the client certificate; a browser-facing endpoint
   * cannot, its answers are authenticated by their signatures instead (the material checks) */
  backChannel?: boolean;
}

/** CBC, 3DES and other non-AEAD TLS 1.2 suites, in OpenSSL names */
const NON_AEAD =
  'ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA:ECDHE-RSA-AES256-SHA:' +
  'ECDHE-ECDSA-AES128-SHA256:ECDHE-RSA-AES128-SHA256:ECDHE-ECDSA-AES256-SHA384:ECDHE-RSA-AES256-SHA384:' +
  'DHE-RSA-AES128-SHA:DHE-RSA-AES256-SHA:AES128-SHA:AES256-SHA:AES128-SHA256:AES256-SHA256:DES-CBC3-SHA:@SECLEVEL=0';
const ANY = 'ALL:@SECLEVEL=0';
const DAY_MS = 86_400_000;

function keyProblems(chain: readonly X509Certificate[]): string[] {
  const problems: string[] = [];
  chain.forEach((cert, i) => {
    const who = i === 0 ? 'the server certificate' : `chain certificate ${i} (${cert.subject.replaceAll('\n', ', ')})`;
    const details = cert.publicKey.asymmetricKeyDetails;
    if (cert.publicKey.asymmetricKeyType?.startsWith('rsa') && (details?.modulusLength ?? 0) < MIN_RSA_BITS)
      problems.push(`${who} has an RSA key of ${details?.modulusLength} bits (at least ${MIN_RSA_BITS})`);
    const selfSigned = cert.checkIssued(cert);
    const algorithm = (cert as X509Certificate & { signatureAlgorithm?: string }).signatureAlgorithm ?? '';
    if (!selfSigned && /sha1/i.test(algorithm)) problems.push(`${who} is signed with ${algorithm}`);
  });
  return problems;
}

export async function probeEndpoint(endpoint: Endpoint, options: EndpointProbeOptions): Promise<CheckResult[]> {
  const now = options.now ?? new Date();
  const client: tls.ConnectionOptions = { cert: options.cert, key: options.key, rejectUnauthorized: false };
  const results: CheckResult[] = [];

  const old = await handshake(endpoint, { ...client, minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: ANY });
  const modern = await handshake(endpoint, { ...client, ca: options.ca, minVersion: 'TLSv1.2', ciphers: ANY });
  results.push({
    check: 'tls_versions',
    ok: !old.ok && modern.ok,
    detail: old.ok
      ? `accepts ${old.protocol} (only TLS 1.2 or later is allowed)`
      : modern.ok
        ? `TLS 1.0/1.1 refused; ${modern.protocol} accepted`
        : `no TLS 1.2 or later handshake: ${modern.error}`,
  });

  const cbc = await handshake(endpoint, { ...client, minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2', ciphers: NON_AEAD });
  results.push({
    check: 'aead_only',
    ok: !cbc.ok,
    detail: cbc.ok ? `accepts the non-AEAD suite ${cbc.cipher}` : 'non-AEAD (CBC, 3DES) suites refused',
  });

  const chain = modern.chain ?? [];
  const leaf = chain[0];
  const expires = leaf ? Date.parse(leaf.validTo) : Number.NaN;
  const soon = now.getTime() + options.warningDays * DAY_MS;
  results.push({
    check: 'chain',
    ok: modern.ok && modern.authorized === true && expires >= soon,
    detail: !modern.ok
      ? `no handshake: ${modern.error}`
      : !modern.authorized
        ? `the chain does not verify: ${modern.authorizationError}`
        : expires < soon
          ? `the server certificate expires ${leaf!.validTo}, within ${options.warningDays} days`
          : `verifies; the server certificate expires ${leaf!.validTo}`,
  });
  const weak = keyProblems(chain);
  results.push({
    check: 'key_strength',
    ok: modern.ok && weak.length === 0,
    detail: modern.ok ? weak.join('; ') || 'keys and signatures strong' : 'no certificate seen',
  });

  if (options.backChannel === false) {
    const detail = 'reached by the browser: its answers are authenticated by their signatures (see material)';
    results.push({ check: 'mutual_auth', ok: true, detail });
    return results;
  }
  const anonymous = await handshake(endpoint, { rejectUnauthorized: false, minVersion: 'TLSv1.2', ciphers: ANY }, true);
  const configured = Boolean(options.cert && options.key);
  results.push({
    check: 'mutual_auth',
    ok: configured && !anonymous.answered && modern.ok,
    detail: !configured
      ? 'no client certificate configured for this provider (tls.cert, tls.key)'
      : anonymous.answered
        ? 'serves a connection without a client certificate'
        : modern.ok
          ? `refuses a connection without the gateway's client certificate (${anonymous.error ?? 'closed'}) and accepts one with it`
          : "does not accept the gateway's client certificate",
  });
  return results;
}
