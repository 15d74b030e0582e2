// The adapter conformance target for a new OIDC provider's entry: the test OP started, the entry's
// protocol settings kept as written (client authentication method, claim names and where they come
// from, personal code format, acr/amr mapping, scope), only what names the real provider replaced by the
// test OP's (issuer, client id and secret, mutual TLS files). The test OP answers in the entry's dialect:
// its ID token (or userinfo) re-signed with the person under the entry's claim names and the upstream
// acr the entry maps to its highest level, so a mapping the adapter would misread fails the suite.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importJWK, SignJWT } from 'jose';
import type { ClientMetadata } from 'oidc-provider';
import type { AdapterHarness, Callback } from '../../../test/support/adapter-conformance.ts';
import { adapterDeps } from '../../../test/support/broker.ts';
import { createOidcAdapter, type OidcProviderConfig, oidcProviderSchema } from '../index.ts';
import { type LoginChoice, startTestOp, type TestOp } from './server.ts';
import { TEST_USERS } from './users.ts';

export const CONFORMANCE_CALLBACK = 'https://gateway.test/providers/new-oidc/callback';
const SECRET = 'conformance-client-secret-that-is-long-enough-0123456789';

/** The test user the entry's personal code format can carry, with the value the OP sends and the subject expected. */
function person(config: OidcProviderConfig): { claims: Record<string, string>; subject: string } {
  const { personal_code: pc } = config.claims;
  const country = pc.country ?? 'LV';
  const user = Object.values(TEST_USERS).find((u) => String(u.serial_number ?? '').startsWith(`PNO${country}-`));
  if (!user) throw new Error(`the test OP has no person from ${country}`);
  const subject = String(user.serial_number);
  const code = subject.slice(`PNO${country}-`.length);
  const value = pc.pattern ? pc.pattern.replace('{country}', country).replace('{code}', code) : code;
  return {
    subject,
    claims: {
      [config.claims.given_name]: String(user.given_name),
      [config.claims.family_name]: String(user.family_name),
      [pc.claim]: value,
    },
  };
}

/** The upstream acr (or amr) value the entry maps to its own highest level. */
function assurance(config: OidcProviderConfig): Pick<LoginChoice, 'acr' | 'amr'> {
  const at = (map: Record<string, string>) => Object.entries(map).find(([, loa]) => loa === config.loa)?.[0];
  const acr = at(config.assurance.acr);
  if (acr) return { acr };
  const amr = at(config.assurance.amr);
  if (amr) return { amr: [amr] };
  throw new Error(`the entry maps no acr or amr value to its level ${config.loa}`);
}

/** The client the test OP registers for the entry's authentication method. */
function client(config: OidcProviderConfig, jwks: { keys: Record<string, unknown>[] }, op: TestOp): ClientMetadata {
  const base = {
    client_id: config.client_id,
    redirect_uris: [CONFORMANCE_CALLBACK],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    id_token_signed_response_alg: 'RS256',
    token_endpoint_auth_method: config.client_auth.method,
  };
  switch (config.client_auth.method) {
    case 'client_secret_basic':
    case 'client_secret_post':
      return { ...base, client_secret: SECRET } as ClientMetadata;
    case 'tls_client_auth':
      return { ...base, tls_client_auth_subject_dn: op.tls?.clientSubjectDn } as ClientMetadata;
    default:
      return {
        ...base,
        token_endpoint_auth_signing_alg: config.signing.alg,
        request_object_signing_alg: config.signing.alg,
        jwks,
      } as ClientMetadata;
  }
}

/**
 * Start the test OP, make an adapter from `entry` (a `providers[]` entry as written, e.g. a scaffolded
 * `NAME.provider.yaml`'s) and return the conformance target for it.
 */
export async function oidcConformanceTarget(entry: Record<string, unknown>): Promise<AdapterHarness> {
  const dir = mkdtempSync(join(tmpdir(), 'vpm-oidc-conformance-'));
  const op = await startTestOp({ clients: [] });
  try {
    return await target(entry, op, dir);
  } catch (err) {
    // a setup the test OP cannot play leaves nothing running
    await op.close();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

async function target(entry: Record<string, unknown>, op: TestOp, dir: string): Promise<AdapterHarness> {
  const written = entry.client_auth as { method: string };
  const secret = written.method.startsWith('client_secret_') ? { client_secret: SECRET } : {};
  const config = oidcProviderSchema.parse({
    ...entry,
    issuer: op.issuer,
    client_id: 'gw-conformance',
    client_auth: { ...written, ...secret },
    tls: { ca: op.tls!.ca, cert: op.tls!.cert, key: op.tls!.key },
  });
  const { claims, subject } = person(config);
  const choice = assurance(config);
  const adapter = await createOidcAdapter(config, adapterDeps(join(dir, 'keys')));
  op.addClient(client(config, adapter.publicJwks(), op));
  // an amr mapping counts only when the ID token carries no acr (and the test OP always sets one)
  op.tamper.idToken = async ({ acr, ...payload }, key) =>
    new SignJWT({ ...payload, ...(choice.acr ? { acr } : {}), ...claims })
      .setProtectedHeader({ alg: 'RS256', kid: key.kid! })
      .sign(await importJWK(key, 'RS256'));
  if (config.claims.source === 'userinfo') op.tamper.userinfo = (body) => ({ ...body, ...claims });

  return {
    adapter,
    callbackUrl: CONFORMANCE_CALLBACK,
    expectedSubject: subject,
    async drive(action, outcome): Promise<Callback> {
      if (action.type !== 'redirect') throw new Error('an oidc adapter starts with a redirect');
      const answer: LoginChoice =
        outcome === 'cancel'
          ? { error: { error: 'access_denied', error_description: 'End-User aborted interaction' } }
          : choice;
      const back = await op.login(action.url, answer);
      return { method: 'GET', params: Object.fromEntries(back.searchParams) };
    },
    withState: (cb, state) => ({ ...cb, params: { ...cb.params, state } }),
    async teardown() {
      await adapter.close();
      await op.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
