// Operations over HTTP, in process: liveness and readiness of a running gateway, and the Prometheus
// scrape on its own listener after a login and a failed one (labels bounded, no personal code).
import type { Store } from '../../src/store/store.ts';
import { MemoryStore } from '../../src/store/memory.ts';
import { useGateway, WatchedAuditLog, loginThroughMock, exchangeCode } from '../support/gateway.ts';
import { useMetricsListener } from '../support/metrics-listener.ts';

const audit = new WatchedAuditLog();
const store = new MemoryStore();
let storeDown = false;
// the store as readiness sees it: one that stops answering on demand
const flaky: Store = new Proxy(store, {
  get(target, name, receiver) {
    if ((name === 'get' || name === 'set') && storeDown) return () => new Promise(() => {});
    const value = Reflect.get(target, name, receiver);
    return typeof value === 'function' ? value.bind(target) : value;
  },
});
const gw = useGateway(({ cleanup }) => {
  cleanup(() => store.close());
  return { audit, store: flaky, settings: { metrics: { port: 0 } } };
});
const metrics = useMetricsListener(gw);

test('/healthz says alive and /readyz names every check', async () => {
  const health = await fetch(`${gw.issuer}/healthz`);
  expect(health.status).toBe(200);
  expect(await health.json()).toEqual({ status: 'ok' });
  const ready = await fetch(`${gw.issuer}/readyz`);
  expect(ready.status).toBe(200);
  expect(await ready.json()).toEqual({
    status: 'ready',
    checks: { store: 'ok', keys: 'ok', key_set: 'ok', audit: 'ok', shutdown: 'ok' },
  });
});

test('/readyz is 503 naming the store while it does not answer; /healthz stays 200', async () => {
  storeDown = true;
  try {
    const ready = await fetch(`${gw.issuer}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({
      status: 'not ready',
      checks: { store: 'no answer in time', keys: 'ok', key_set: 'ok', audit: 'ok', shutdown: 'ok' },
    });
    expect((await fetch(`${gw.issuer}/healthz`)).status).toBe(200);
  } finally {
    storeDown = false;
  }
  expect((await fetch(`${gw.issuer}/readyz`)).status).toBe(200);
});

test('the scrape counts a login and a failed login by provider, client and reason, and holds no personal code', async () => {
  const ok = await loginThroughMock(gw.rp);
  const code = String((await exchangeCode(gw.rp, ok, ok.callback!)).claims()?.personal_code);
  expect(code).toMatch(/^\d{6}-\d{5}$/);
  await audit.recorded((e) => e.type === 'tokens_issued');
  const cancelled = await loginThroughMock(gw.rp, {}, 'cancel');
  expect(cancelled.callback?.searchParams.get('error')).toBe('user_cancel');
  await audit.recorded((e) => e.type === 'authorization_request_error');

  const response = await fetch(metrics.url());
  expect(response.status).toBe(200);
  const text = await response.text();
  expect(text).toMatch(/^vpm_logins_started_total\{provider="mock-eid",client="rp"\} 2$/m);
  expect(text).toMatch(/^vpm_logins_completed_total\{provider="mock-eid",client="rp"\} 1$/m);
  expect(text).toMatch(
    /^vpm_logins_failed_total\{provider="mock-eid",client="rp",step="authorization",reason="user_cancel"\} 1$/m,
  );
  expect(text).toMatch(
    /^vpm_upstream_errors_total\{provider="mock-eid",step="verification",reason="user_cancel"\} 1$/m,
  );
  for (const step of ['authorization', 'start', 'callback', 'token'])
    expect(text).toMatch(new RegExp(`^vpm_step_duration_seconds_count\\{step="${step}",.*\\} [1-9]`, 'm'));
  expect(text).toMatch(/^vpm_step_duration_seconds_count\{step="callback",provider="mock-eid",status="3xx"\} 2$/m);
  // the adapter's own work, by outcome: two requests built, one answer verified, one cancel
  expect(text).toMatch(/^vpm_upstream_duration_seconds_count\{provider="mock-eid",step="start",outcome="ok"\} 2$/m);
  expect(text).toMatch(/^vpm_upstream_duration_seconds_count\{provider="mock-eid",step="callback",outcome="ok"\} 1$/m);
  expect(text).toMatch(
    /^vpm_upstream_duration_seconds_count\{provider="mock-eid",step="callback",outcome="user_cancel"\} 1$/m,
  );
  expect(text).toMatch(/^vpm_audit_append_seconds_count [1-9]/m);
  expect(text).toMatch(/^vpm_store_operation_seconds_count\{op="take"\} [1-9]/m);
  // no personal code, in any of its spellings, and only configured ids as provider and client labels
  expect(text).not.toContain(code);
  expect(text).not.toContain(code.replace('-', ''));
  expect(text).not.toContain('PNO');
  const names = text.split('\n').map((line) => line.replace(/ [^ ]*$/, ''));
  expect(names.join('\n')).not.toMatch(/\d{6}-?\d{5}/);
  const labelled = [...text.matchAll(/(provider|client)="([^"]*)"/g)].map((m) => m[2]);
  expect(new Set(labelled)).toEqual(new Set(['mock-eid', 'rp', 'none']));
  expect((await fetch(metrics.url().replace('/metrics', '/other'))).status).toBe(404);
});
