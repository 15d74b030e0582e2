// The upstream OIDC adapter tests' set-up: a real node-oidc-provider (the test OP) over HTTPS with a dev
// CA, registered for each way the gateway authenticates to it, and the adapter in front of it driven
// through the broker exactly as the gateway runs it. Hostile tokens are produced by the test OP itself
// (its token endpoint answer rewritten), so they travel the real protocol and TLS path.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT, importJWK, type JWK, type JWTPayload } from 'jose';
import type { Callback } from '../../test/support/adapter-conformance.ts';
import { BrokerError } from '../../src/login/broker-error.ts';
import type { AdapterDeps } from '../../src/broker/adapter.ts';
import type { Loa } from '../../src/identity/loa.ts';
import { memoryLogger } from '../../src/logger.ts';
import { adapterDeps, brokerFor } from '../../test/support/broker.ts';
import { createOidcAdapter, oidcProviderSchema, type OidcAdapter, type OidcProviderInput } from './index.ts';
import { startTestOp, type LoginChoice, type TestOp } from './test-op/index.ts';
import { loginAtTestOp } from './test-logins.ts';
import {
  makeGatewayKeyFiles,
  providerEntry,
  testOpClient,
  type ClientVariant,
  type GatewayKeyFiles,
} from './test-op/fixtures.ts';

export const CALLBACK = 'https://gateway.test/providers/test-eid/callback';
export const SUBJECT = 'PNOLV-010180-15097';
export const VARIANTS: ClientVariant[] = ['client_secret', 'private_key_jwt', 'encrypted', 'tls_client_auth'];
/** the test OP's client for the `encrypted` entry, without userinfo encryption */
export const SIGNED_USERINFO = 'gw-encrypted-signed-userinfo';

/** the gateway's key directory, its key files and the test OP: set once useTestOp()'s beforeAll has run */
export const upstream = {} as { dir: string; keys: GatewayKeyFiles; op: TestOp };
export const logger = memoryLogger();

/**
 * Registers in the current file: beforeAll makes the gateway's keys and starts the test OP with a client
 * for each variant (and one that signs its userinfo for the `encrypted` entry but does not encrypt it);
 * afterEach undoes a test's tampering; afterAll closes the OP and removes the keys.
 */
export function useTestOp(): void {
  beforeAll(async () => {
    upstream.dir = mkdtempSync(join(tmpdir(), 'vpm-oidc-test-'));
    upstream.keys = await makeGatewayKeyFiles(upstream.dir);
    // the OP needs the gateway's public keys, the gateway needs the OP's address: keys first, then the OP
    const {
      userinfo_encrypted_response_alg: _alg,
      userinfo_encrypted_response_enc: _enc,
      ...signedOnly
    } = testOpClient('encrypted', CALLBACK, upstream.keys);
    upstream.op = await startTestOp({
      clients: [
        ...VARIANTS.map((v) => testOpClient(v, CALLBACK, upstream.keys)),
        { ...signedOnly, client_id: SIGNED_USERINFO },
      ],
    });
  });
  afterAll(async () => {
    await upstream.op?.close();
    rmSync(upstream.dir, { recursive: true, force: true });
  });
  afterEach(() => {
    delete upstream.op.tamper.idToken;
    delete upstream.op.tamper.userinfo;
    delete upstream.op.tamper.tokenError;
  });
}

export const deps = (): AdapterDeps => adapterDeps(join(upstream.dir, 'keys'), { logger });
export const brokerOf = (adapter: OidcAdapter) => brokerFor(adapter, { callbackUrl: CALLBACK, logger });

export async function adapterFor(
  variant: ClientVariant,
  override: Partial<OidcProviderInput> = {},
): Promise<OidcAdapter> {
  const config = oidcProviderSchema.parse({ ...providerEntry(upstream.op, variant, upstream.keys), ...override });
  return createOidcAdapter(config, deps());
}

export function toCallback(url: URL): Callback {
  return { method: 'GET', params: Object.fromEntries(url.searchParams) };
}

/** One login through the broker; resolves to the identity or the BrokerError. */
export async function login(adapter: OidcAdapter, choice: LoginChoice = {}, acr?: Loa) {
  return (await loginAtTestOp(upstream.op, adapter, { callbackUrl: CALLBACK, logger, choice, ...(acr ? { acr } : {}) }))
    .result;
}

/** Re-sign (possibly altered) ID token claims the way a hostile or broken upstream would. */
export async function forge(
  claims: JWTPayload,
  opKey: JWK,
  opts: { alg?: string; key?: Parameters<SignJWT['sign']>[0]; kid?: string } = {},
): Promise<string> {
  const alg = opts.alg ?? 'RS256';
  const key = opts.key ?? (await importJWK(opKey, 'RS256'));
  return new SignJWT(claims).setProtectedHeader({ alg, kid: opts.kid ?? opKey.kid!, typ: 'JWT' }).sign(key);
}

export function refused(result: unknown, code: string, detail?: RegExp): void {
  expect(result).toBeInstanceOf(BrokerError);
  const err = result as BrokerError;
  expect(`${err.code}: ${err.detail}`).toMatch(new RegExp(`^${code}: `));
  if (detail) expect(err.detail).toMatch(detail);
  // the refusal belongs to the right login, so the relying party is told
  expect(err.login?.uid).toBe('uid');
}
