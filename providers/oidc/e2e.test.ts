// End to end through the whole gateway: openid-client plays the agency service, the gateway sends the
// browser to the test eID (node-oidc-provider over HTTPS with a dev CA) and verifies its answer over the
// provider's own TLS back channel. One upstream client per way of authenticating and receiving tokens.
import { startTestOp, EIDAS, type LoginChoice, type TestOp } from './test-op/index.ts';
import {
  makeGatewayKeyFiles,
  providerEntry,
  testOpClient,
  type ClientVariant,
  type GatewayKeyFiles,
} from './test-op/fixtures.ts';
import { useGateway, beginLogin, atRp, claimsOf } from '../../test/support/gateway.ts';

const PROVIDERS: Record<string, ClientVariant> = {
  'eid-secret': 'client_secret',
  'eid-pkjwt': 'private_key_jwt',
  'eid-jwe': 'encrypted',
};

let op: TestOp;
let keys: GatewayKeyFiles;

const gw = useGateway(async ({ dir, cleanup }) => {
  keys = await makeGatewayKeyFiles(dir);
  op = await startTestOp({});
  cleanup(() => op.close());
  return {
    providers: Object.entries(PROVIDERS).map(([id, variant]) => ({
      ...providerEntry(op, variant, keys, id),
      client_id: `${id}-client`,
    })),
  };
});

// the gateway's callback URL is known only now: register the upstream clients with it
beforeAll(() => {
  for (const [id, variant] of Object.entries(PROVIDERS))
    op.addClient({ ...testOpClient(variant, `${gw.issuer}/broker/callback/${id}`, keys), client_id: `${id}-client` });
});

/** Agency service -> gateway -> test eID -> gateway -> agency service; returns the final hop at the service. */
async function loginVia(providerId: string, choice: LoginChoice = {}, params: Record<string, string> = {}) {
  const started = await beginLogin(gw.rp, { idp_hint: providerId, ui_locales: 'en', ...params });
  const toOp = await started.browser.follow(started.hop, (h) => !!h.location?.startsWith(op.issuer));
  expect(toOp.location).toMatch(new RegExp(`^${op.issuer}/auth`));
  const back = await op.login(toOp.location!, choice);
  expect(`${back.origin}${back.pathname}`).toBe(`${gw.issuer}/broker/callback/${providerId}`);
  const landing = await started.browser.get(back.href);
  const final = await started.browser.follow(landing, atRp);
  return { started, final, query: new URL(final.location!).searchParams };
}

describe('logins through the gateway against the test eID', () => {
  test.each(Object.keys(PROVIDERS))('%s: the agency service gets the verified identity', async (providerId) => {
    const l = await loginVia(providerId, { acr: EIDAS.high, amr: ['smart_card'] }, { acr_values: 'high' });
    // (which `sub` and which extra claims are released is the core's policy; the person and level come from the eID)
    expect(await claimsOf(gw.rp, l.started, l.final)).toMatchObject({
      given_name: 'Jānis',
      family_name: 'Bērziņš',
      personal_code: '010180-15097',
      acr: 'high',
      idp: providerId,
    });
  });

  test('an Estonian person (PNOEE-...) through the semantics identifier pattern', async () => {
    const l = await loginVia('eid-secret', { user: 'estonian', acr: EIDAS.substantial });
    expect(await claimsOf(gw.rp, l.started, l.final)).toMatchObject({
      personal_code: '60001019906',
      personal_code_country: 'EE',
      given_name: 'Mari',
    });
  });

  test('cancel at the eID: the service gets error=user_cancel for its own state', async () => {
    const l = await loginVia('eid-jwe', { error: { error: 'user_cancel' } });
    expect(l.query.get('error')).toBe('user_cancel');
    expect(l.query.get('state')).toBe(l.started.state);
  });

  test('a level below the requested one is refused, and the agency service is told', async () => {
    const started = await beginLogin(gw.rp, { idp_hint: 'eid-pkjwt', ui_locales: 'en', acr_values: 'high' });
    const toOp = await started.browser.follow(started.hop, (h) => !!h.location?.startsWith(op.issuer));
    const back = await op.login(toOp.location!, { acr: EIDAS.low });
    const landing = await started.browser.get(back.href);
    expect(landing.status).toBeGreaterThanOrEqual(300);
    // whatever page the user sees, no ID token with a lower level ever reaches the service
    const final = await started.browser.follow(landing, atRp).catch(() => undefined);
    if (final?.location && atRp(final)) {
      const q = new URL(final.location).searchParams;
      expect(q.get('code')).toBeNull();
      expect(q.get('state')).toBe(started.state);
    }
    const audit = gw.audit as unknown as {
      events: { type: string; providerId?: string; detail?: { code?: string } }[];
    };
    expect(
      audit.events.filter((e) => e.type === 'verification_error' && e.providerId === 'eid-pkjwt').at(-1)?.detail,
    ).toMatchObject({ code: 'loa_too_low' });
  });

  test('the gateway publishes its keys for the upstream at /providers/<id>/jwks.json', async () => {
    const res = await fetch(`${gw.issuer}/providers/eid-jwe/jwks.json`);
    expect(res.status).toBe(200);
    const { keys } = (await res.json()) as { keys: { use: string; d?: string }[] };
    expect(keys.map((k) => k.use).sort()).toEqual(['enc', 'sig']);
    expect(keys.every((k) => k.d === undefined)).toBe(true);
  });

  test('application logs carry no personal code or token', () => {
    expect(gw.logLines.join('\n')).not.toMatch(/010180-15097|60001019906|eyJ/);
  });
});
