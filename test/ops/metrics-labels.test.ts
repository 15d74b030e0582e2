// Metric labels are bounded (README, _Metrics_; src/ops/metrics.ts): a provider or client label is an id
// from the configuration, else `unknown` (or `none` when nothing was named), never what a request said.
// Anyone can send requests naming made-up providers and clients; were those names labels, each would be a
// new time series (a scrape, and the monitoring behind it, grown at will) and free text in the metrics.
// Requests naming unknown ids, then a scrape of the metrics listener, over real HTTP.
import { randomBytes } from 'node:crypto';
import { useGateway, WatchedAuditLog, beginLogin, chooseProvider, RP_REDIRECT } from '../support/gateway.ts';
import { useMetricsListener } from '../support/metrics-listener.ts';

const audit = new WatchedAuditLog();
const gw = useGateway({ audit, settings: { metrics: { port: 0 } } });
const metrics = useMetricsListener(gw);

/** A made-up id, such as anyone may put in a URL or a form. */
const madeUp = () => `x${randomBytes(8).toString('hex')}`;

async function scrape(): Promise<string> {
  const response = await fetch(metrics.url());
  expect(response.status).toBe(200);
  return response.text();
}

/** Every value of a provider or client label in the scrape. */
const labelValues = (text: string) => new Set([...text.matchAll(/\b(?:provider|client)="([^"]*)"/g)].map((m) => m[1]));

/** What a provider or client label may hold: the configured ids, `unknown` and `none`. */
const allowed = () =>
  new Set([
    ...gw.config.providers.map((p) => p.config.id),
    ...gw.config.clients.map((c) => c.client_id),
    'unknown',
    'none',
  ]);

test('requests naming unknown providers and clients: every label is a configured id, unknown or none', async () => {
  const names = { callback: madeUp(), posted: madeUp(), page: madeUp(), chosen: madeUp(), client: madeUp() };
  // a provider's callback that no provider owns, by GET and by POST
  const get = await fetch(`${gw.issuer}/broker/callback/${names.callback}?state=${'s'.repeat(27)}`, {
    redirect: 'manual',
  });
  await get.arrayBuffer();
  const post = await fetch(`${gw.issuer}/broker/callback/${names.posted}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ state: 's'.repeat(27), SAMLResponse: 'x' }).toString(),
    redirect: 'manual',
  });
  await post.arrayBuffer();
  // an adapter page of no provider
  await (await fetch(`${gw.issuer}/providers/${names.page}/authorize`, { redirect: 'manual' })).arrayBuffer();
  // a provider chosen on the selection page that the service is not offered
  const started = await beginLogin(gw.rp);
  const page = await started.browser.follow(started.hop);
  expect(page.status).toBe(200);
  await chooseProvider(started.browser, page.url, names.chosen);
  // an authorization request and a token request from a client that is not registered
  const auth = new URL(`${gw.issuer}/auth`);
  for (const [k, v] of Object.entries({
    client_id: names.client,
    response_type: 'code',
    scope: 'openid',
    redirect_uri: RP_REDIRECT,
    state: 's'.repeat(16),
    code_challenge: 'c'.repeat(43),
    code_challenge_method: 'S256',
  }))
    auth.searchParams.set(k, v);
  await (await fetch(auth, { redirect: 'manual' })).arrayBuffer();
  await audit.recorded((e) => e.type === 'authorization_request_error');
  const token = await fetch(`${gw.issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code: 'not-a-real-code',
      redirect_uri: RP_REDIRECT,
      client_id: names.client,
      client_secret: 'not-a-secret',
    }).toString(),
  });
  expect(token.status).toBe(401);
  await token.arrayBuffer();

  const text = await scrape();
  expect([...labelValues(text)].filter((v) => !allowed().has(v!))).toEqual([]);
  for (const name of Object.values(names)) expect(text).not.toContain(name);
  // the unknown providers' callbacks and start were measured all the same, under `unknown`
  expect(text).toMatch(/^vpm_step_duration_seconds_count\{step="callback",provider="unknown",status="\dxx"\} 2$/m);
  expect(text).toMatch(/^vpm_step_duration_seconds_count\{step="start",provider="unknown",status="\dxx"\} 1$/m);
});

test('an audit event naming ids the configuration does not know is counted under unknown, not under those ids', async () => {
  // the counters read the audit events (src/ops/metrics.ts): whatever an event carries, as a record read
  // back from the store might, the labels stay bounded
  const names = { provider: madeUp(), client: madeUp() };
  const metrics = gw.gateway.metrics!;
  metrics.observeEvent({ type: 'provider_request', providerId: names.provider, clientId: names.client });
  metrics.observeEvent({
    type: 'authorization_request_error',
    providerId: names.provider,
    clientId: names.client,
    detail: { error: names.provider },
  });
  const text = await scrape();
  expect([...labelValues(text)].filter((v) => !allowed().has(v!))).toEqual([]);
  for (const name of Object.values(names)) expect(text).not.toContain(name);
  expect(text).toMatch(/^vpm_logins_started_total\{provider="unknown",client="unknown"\} 1$/m);
  expect(text).toMatch(
    /^vpm_logins_failed_total\{provider="unknown",client="unknown",step="authorization",reason="other"\} 1$/m,
  );
});
