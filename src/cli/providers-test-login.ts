// `providers test-login ID`: at the testing stage, the operator logs in at the provider's test
// environment through the running gateway, as a `test: true` service would: this command is that
// service (authorization code flow with PKCE, its redirect URI a loopback one of that client, RFC 8252
// 7.3). It prints the URL to open, receives the answer, checks what came back (./report.ts) and stores
// the report with the record; the audit log records it (production needs a recent successful one).
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import * as oidc from 'openid-client';
import { judgeTestLogin, entryAlgorithms } from '../onboarding/test-login/report.ts';
import { currentStage } from '../onboarding/record.ts';
import { emit, EXIT_FAILED, EXIT_OK, integerOption, UsageError } from './command.ts';
import { providersCommand, recordOf } from './providers-context.ts';
import { saveReport } from './providers-save.ts';
import type { ClientConfig } from '../config/schema.ts';

const LOOPBACK = /^http:\/\/(127\.0\.0\.1|\[::1\]|localhost):\d+\//;

function testClient(
  clients: readonly ClientConfig[],
  wanted: string | undefined,
  issuer: string,
): { client: ClientConfig; redirect: URL } {
  const candidates = clients.filter((c) => c.test && (!wanted || c.client_id === wanted));
  // a loopback URI on the gateway's own origin (the demo service's /demo/callback) is the gateway's to
  // answer, not this command's: listening there would fail, or the answer would never arrive
  const own = new URL(issuer).origin;
  for (const client of candidates) {
    const uri = client.redirect_uris.find((u) => LOOPBACK.test(u) && new URL(u).origin !== own);
    if (uri) return { client, redirect: new URL(uri) };
  }
  throw new UsageError(
    `${wanted ? `client ${wanted}` : 'no client'} marked test: true has a loopback redirect URI (http://127.0.0.1:PORT/...) for the test login`,
  );
}

/** Waits at the redirect URI for the one answer of this login; the page tells the operator to look here. */
function receive(redirect: URL, waitSeconds: number): Promise<URL> {
  return new Promise((resolve, reject) => {
    const server = http.createServer((req, res) => {
      const url = new URL(req.url ?? '/', redirect);
      if (url.pathname !== redirect.pathname) {
        res.writeHead(404).end();
        return;
      }
      // one answer only: no connection may outlive it and reach a later run's listener
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', connection: 'close' });
      res.end('Test login received: the report is in the terminal.\n', () => server.closeAllConnections());
      clearTimeout(timer);
      server.close();
      resolve(url);
    });
    const timer = setTimeout(() => {
      server.close();
      reject(new Error(`no answer at ${redirect.href} within ${waitSeconds} s`));
    }, waitSeconds * 1000);
    server.on('error', reject);
    server.listen(Number(redirect.port), redirect.hostname.replace(/^\[|\]$/g, ''));
  });
}

/** Certificate errors of Node's TLS client (OpenSSL's verify codes): the gateway answered, untrusted. */
const UNTRUSTED =
  /^(UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT(_LOCALLY)?|SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT)$/;

/** What to do when discovery at the issuer failed with `why` (an error code or message). */
export function unreachable(issuer: string, why: string): string {
  if (why === 'CERT_HAS_EXPIRED')
    return `the gateway at ${issuer} answered with an expired certificate (${why}): renew server.tls's certificate`;
  if (why === 'ERR_TLS_CERT_ALTNAME_INVALID')
    return `the gateway's certificate does not name the host of ${issuer} (${why}): check issuer (or ISSUER) against server.tls's certificate`;
  if (UNTRUSTED.test(why))
    return (
      `the gateway at ${issuer} answered with a certificate this machine does not trust (${why}): ` +
      'set NODE_EXTRA_CA_CERTS to the file of its CA (certs/dev/ca.pem for the development PKI of `certs dev`)'
    );
  return (
    `cannot reach the gateway at ${issuer} (${why}): start it with this configuration first; ` +
    'with PORT or ISSUER set for start, set them here too'
  );
}

export const testLogin = providersCommand({
  name: 'test-login',
  synopsis: 'ID [options]',
  summary:
    'Logs in once through the running gateway at a provider in testing: open the printed URL, log in at the\n' +
    "provider's test environment, and get the report of what came back (separate names and personal code,\n" +
    'amr, level, fresh auth_time, algorithms). Stored with the record and audited. Exit 1 when a check fails\n' +
    'or the provider left testing while it ran (the report is stored beside that move).',
  help: [
    ['--client ID', 'the test: true client to log in as (default: one with a loopback redirect URI)'],
    ['--wait SECONDS', 'how long to wait for the login (default 600)'],
  ],
  options: { client: { type: 'string' }, wait: { type: 'string' } },
  maxPositionals: 1,
  async run(ctx) {
    const { config, io } = ctx;
    const record = recordOf(ctx, ctx.positionals[0]);
    if (currentStage(record) !== 'testing')
      throw new UsageError(`${record.id} is at ${currentStage(record)}: a test login is for the testing stage`);
    const entry = config.providers.find((p) => p.config.id === record.adapter)?.config;
    if (!entry) throw new UsageError(`${record.id} has no configured adapter entry`);
    const { client, redirect } = testClient(config.clients, ctx.values.client, config.issuer);
    const wait = integerOption(ctx.values.wait, 'wait') ?? 600;
    const secret = client.client_secret;
    if (!secret) throw new UsageError(`client ${client.client_id} has no client_secret to log in with`);
    const auth =
      client.token_endpoint_auth_method === 'client_secret_post'
        ? oidc.ClientSecretPost(secret)
        : oidc.ClientSecretBasic(secret);
    const insecure =
      !config.production && config.issuer.startsWith('http:') ? { execute: [oidc.allowInsecureRequests] } : {};
    let gateway: oidc.Configuration;
    try {
      gateway = await oidc.discovery(
        new URL(config.issuer),
        client.client_id,
        { client_secret: secret },
        auth,
        insecure,
      );
    } catch (err) {
      // openid-client wraps fetch's TypeError, which wraps the socket's error: name the innermost code
      let cause: unknown = err;
      while ((cause as { cause?: unknown }).cause && !(cause as { code?: string }).code)
        cause = (cause as { cause: unknown }).cause;
      const why = (cause as { code?: string }).code ?? (cause as Error).message;
      io.stderr(`${unreachable(config.issuer, why)}\n`);
      return EXIT_FAILED;
    }
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = randomBytes(16).toString('base64url');
    const startedAt = new Date();
    const url = oidc.buildAuthorizationUrl(gateway, {
      redirect_uri: redirect.href,
      scope: 'openid profile personal_code',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
      idp_hint: entry.id,
      ui_locales: 'en',
    });
    io.stderr(`Open this URL and log in at ${entry.id}'s test environment:\n${url.href}\n`);
    const answer = await receive(redirect, wait);
    let claims: Record<string, unknown> = {};
    let alg: string | undefined;
    let refused: string | undefined;
    try {
      const tokens = await oidc.authorizationCodeGrant(gateway, answer, {
        pkceCodeVerifier: verifier,
        expectedState: state,
        expectedNonce: nonce,
      });
      claims = { ...tokens.claims() };
      alg = JSON.parse(Buffer.from(tokens.id_token!.split('.')[0]!, 'base64url').toString()).alg;
    } catch (err) {
      refused = answer.searchParams.get('error') ?? (err as Error).message;
    }
    const judged = judgeTestLogin({
      provider: entry.id,
      loa: entry.loa,
      startedAt,
      claims,
      idTokenAlg: alg,
      providerAlgorithms: entryAlgorithms(entry),
    });
    const report = refused ? { ...judged, ok: false, refused } : judged;
    const saved = await saveReport(
      config,
      record.id,
      'test_login',
      { at: report.at, ok: report.ok, report: { ...report } },
      io,
    );
    // a move made while the operator logged in stays: the report is stored beside it, and cannot open production
    const moved = saved && currentStage(saved.next) !== 'testing' ? currentStage(saved.next) : undefined;
    if (moved)
      io.stderr(
        `${record.id}: moved to ${moved} while the test login ran; the report is stored beside that move (revision ${saved!.next.revision})\n`,
      );
    const text = [
      `${entry.id}: test login ${report.ok ? 'PASSED' : 'FAILED'} at ${report.at}${refused ? ` (${refused})` : ''}`,
      ...report.checks.map((c) => `  ${c.ok ? 'ok  ' : 'FAIL'} ${c.check.padEnd(13)} ${c.detail}`),
    ].join('\n');
    emit(ctx, report, `${text}\n`);
    return report.ok && saved && !moved ? EXIT_OK : EXIT_FAILED;
  },
});
