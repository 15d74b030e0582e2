// The load generator of `npm run bench`, in its own process: N virtual users, each a browser (cookie jar,
// no automatic redirects) doing complete logins one after another: authorization request with PKCE,
// selection page, provider choice, the provider's pages (the mock eID's person form, or the test bank's
// auto-posted 4012, user and one-time-code pages and its auto-posted 3013), the callback and the redirects
// back to the service, then the code exchange (client_secret_basic + PKCE verifier) and the ES256 ID
// token's signature, issuer, audience and nonce checked against the issuer's JWKS (fetched once).
// Driven over IPC by bench/run.ts: {bench: 'load', target, users, seconds} -> {bench: 'loaded', ...}.
import { createHash, randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import { Browser, parseAutoPost, type Hop } from '../test/support/browser.ts';

export interface LoadTarget {
  /** floor and mock: an upstream page with one form; bank: the test bank's pages */
  upstream: 'page' | 'bank';
  issuer: string;
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  provider: string;
  scope: string;
}

export interface LoadResult {
  logins: number;
  failures: number;
  firstFailure?: string;
  seconds: number;
  latenciesMs: number[];
  cpuMicros: number;
}

const jwksCache = new Map<string, ReturnType<typeof createLocalJWKSet>>();

async function jwksOf(issuer: string) {
  let jwks = jwksCache.get(issuer);
  if (!jwks) {
    const res = await fetch(`${issuer}/jwks`);
    jwks = createLocalJWKSet((await res.json()) as JSONWebKeySet);
    jwksCache.set(issuer, jwks);
  }
  return jwks;
}

const b64url = (b: Buffer) => b.toString('base64url');

function expect(ok: unknown, what: string, hop?: Hop): asserts ok {
  if (!ok) throw new Error(`${what}${hop ? ` (${hop.status} ${hop.url} ${hop.body.slice(0, 200)})` : ''}`);
}

/** At the provider's page with one form (the mock eID, the floor's upstream): choose test person 0. */
async function pageUpstream(browser: Browser, hop: Hop): Promise<Hop> {
  expect(hop.status === 303 && hop.location, 'no redirect to the provider', hop);
  const page = await browser.get(hop.location);
  const form = /<form method="post" action="([^"]+)">((?:<input[^>]*>)+)/.exec(page.body);
  expect(form, 'provider page without a form', page);
  const fields: Record<string, string> = {};
  for (const m of form[2]!.matchAll(/name="([^"]+)" value="([^"]*)"/g)) fields[m[1]!] = m[2]!.replace(/&amp;/g, '&');
  fields.user = '0';
  return browser.post(new URL(form[1]!, page.url).toString(), fields);
}

/** At the test bank: the auto-posted 4012, the first test user, the one-time code, its auto-posted answer. */
async function bankUpstream(browser: Browser, hop: Hop): Promise<Hop> {
  const request = parseAutoPost(hop.body, hop.url);
  expect(request, 'no auto-posted request to the bank', hop);
  const loginPage = await browser.post(request.action, request.fields);
  const login = parseAutoPost(loginPage.body, loginPage.url, 'login');
  expect(login, 'bank login page unexpected', loginPage);
  const codePage = await browser.post(login.action, { session: login.fields.session!, user: 'janis' });
  const confirm = parseAutoPost(codePage.body, codePage.url, 'confirm');
  const code = /<code id="hint">(\d+)<\/code>/.exec(codePage.body)?.[1];
  expect(confirm && code, 'bank code page unexpected', codePage);
  const answerPage = await browser.post(confirm.action, { ...confirm.fields, code });
  const answer = parseAutoPost(answerPage.body, answerPage.url);
  expect(answer, 'no auto-posted answer from the bank', answerPage);
  return browser.post(answer.action, answer.fields);
}

export async function oneLogin(t: LoadTarget): Promise<void> {
  const browser = new Browser();
  const verifier = b64url(randomBytes(32));
  const state = b64url(randomBytes(16));
  const nonce = b64url(randomBytes(16));
  const auth = new URL(`${t.issuer}/auth`);
  auth.search = new URLSearchParams({
    client_id: t.clientId,
    response_type: 'code',
    redirect_uri: t.redirectUri,
    scope: t.scope,
    state,
    nonce,
    code_challenge: b64url(createHash('sha256').update(verifier).digest()),
    code_challenge_method: 'S256',
  }).toString();
  const interaction = await browser.follow(await browser.get(auth.toString()), (h) => h.status === 200);
  expect(interaction.status === 200, 'no selection page', interaction);
  const choice = await browser.post(`${interaction.url}/provider`, { provider: t.provider });
  const back = t.upstream === 'bank' ? await bankUpstream(browser, choice) : await pageUpstream(browser, choice);
  const atService = await browser.follow(back, (h) => !!h.location?.startsWith(t.redirectUri));
  const location = atService.location;
  expect(location?.startsWith(t.redirectUri), 'not back at the service', atService);
  const callback = new URL(location!);
  expect(callback.searchParams.get('state') === state, 'state differs');
  expect(callback.searchParams.get('iss') === t.issuer, 'iss differs');
  const code = callback.searchParams.get('code');
  expect(code, `no code: ${callback.searchParams.get('error')} ${callback.searchParams.get('error_description')}`);
  const res = await fetch(`${t.issuer}/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${encodeURIComponent(t.clientId)}:${encodeURIComponent(t.clientSecret)}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: t.redirectUri,
      code_verifier: verifier,
    }),
  });
  const tokens = (await res.json()) as { id_token?: string; error?: string };
  expect(res.status === 200 && tokens.id_token, `token request failed: ${res.status} ${tokens.error}`);
  const { payload, protectedHeader } = await jwtVerify(tokens.id_token, await jwksOf(t.issuer), {
    issuer: t.issuer,
    audience: t.clientId,
    algorithms: ['ES256'],
  });
  expect(protectedHeader.alg === 'ES256' && payload.nonce === nonce, 'ID token nonce differs');
}

/** `users` virtual users log in until `seconds` have passed; logins still running then are waited for. */
export async function load(t: LoadTarget, users: number, seconds: number): Promise<LoadResult> {
  const cpu0 = process.cpuUsage();
  const latenciesMs: number[] = [];
  let failures = 0;
  let firstFailure: string | undefined;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: users }, async () => {
      while (performance.now() < deadline) {
        const t0 = performance.now();
        try {
          await oneLogin(t);
          latenciesMs.push(performance.now() - t0);
        } catch (err) {
          failures += 1;
          firstFailure ??= (err as Error).message;
        }
      }
    }),
  );
  const cpu = process.cpuUsage(cpu0);
  return {
    logins: latenciesMs.length,
    failures,
    ...(firstFailure ? { firstFailure } : {}),
    seconds: (performance.now() - started) / 1000,
    latenciesMs,
    cpuMicros: cpu.user + cpu.system,
  };
}

// driven over IPC only when run as the bench's process (imported, it only lends load() and oneLogin())
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.on('message', (message: unknown) => {
    const m = message as { bench?: string; target: LoadTarget; users: number; seconds: number };
    if (m?.bench !== 'load') return;
    void load(m.target, m.users, m.seconds).then((result) => process.send!({ bench: 'loaded', ...result }));
  });
  process.send?.({ bench: 'ready' });
}
