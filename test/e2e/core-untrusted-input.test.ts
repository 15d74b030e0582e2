// End to end, input nobody vouches for: malformed requests never answer 500, and names from a provider that
// would display as someone else (bidi overrides, invisible characters, no letter) are refused (./core-gateway.ts).
import type { MemoryAuditLog } from '../../src/audit/events.ts';
import { useGateway, beginLogin, chooseProvider, mockProviderLogin, atRp, MOCK_PROVIDER } from '../support/gateway.ts';
import { useCoreGateway } from './core-gateway.ts';

const gw = useCoreGateway();

describe('malformed input never answers 500', () => {
  test.each([
    ['GET', '/interaction/nope'],
    ['GET', '/interaction/nope/complete'],
    ['POST', '/interaction/nope/provider'],
    ['POST', '/interaction/nope/abort'],
    ['GET', '/broker/callback/mock-eid'],
    ['GET', '/broker/callback/mock-eid?state=x&assertion=y'],
    ['GET', '/broker/callback/mock-eid?state[]=x'],
    ['POST', '/broker/callback/mock-eid'],
    ['GET', '/broker/callback/unknown?state=AAAAAAAAAAAAAAAAAAAAAAAAAAA'],
    ['GET', '/auth'],
    ['GET', '/auth?client_id=nope&response_type=code'],
    ['POST', '/token'],
    ['GET', '/me'],
    ['GET', '/providers/mock-eid/authorize'],
    ['POST', '/providers/mock-eid/decide'],
    ['GET', '/no/such/page'],
  ])('%s %s', async (method, path) => {
    const res = await fetch(gw.issuer + path, {
      method,
      redirect: 'manual',
      headers: method === 'POST' ? { 'content-type': 'application/x-www-form-urlencoded' } : {},
      body: method === 'POST' ? 'a=b' : undefined,
    });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
  });

  test('an oversized callback body answers 400 with an audit record', async () => {
    const res = await fetch(`${gw.issuer}/broker/callback/mock-eid`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `x=${'a'.repeat(600_000)}`,
    });
    expect(res.status).toBe(400);
    const audit = gw.audit as unknown as {
      events: { type: string; providerId?: string; detail?: { reason?: string } }[];
    };
    expect(audit.events.at(-1)).toMatchObject({
      type: 'provider_response_error',
      providerId: 'mock-eid',
      detail: { reason: expect.stringContaining('callback body larger than') },
    });
  });

  test('a garbage assertion with a valid state maps to an OAuth error, not a crash', async () => {
    const started = await beginLogin(gw.rp);
    const page = await started.browser.follow(started.hop);
    const authorize = await chooseProvider(started.browser, page.url, 'mock-eid');
    const state = new URL(authorize.location!).searchParams.get('state')!;
    const hop = await started.browser.get(`${gw.issuer}/broker/callback/mock-eid?state=${state}&assertion=not.a.jwt`);
    expect(hop.status).toBe(400);
    const link = /href="(\/interaction\/[^"]+\/complete)"/.exec(hop.body)![1]!;
    const final = await started.browser.follow(await started.browser.get(new URL(link, gw.issuer).toString()), atRp);
    expect(new URL(final.location!).searchParams.get('error')).toBe('access_denied');
  });
});

describe('names that would display as someone else', () => {
  // a provider (or whoever forged its answer) sends a family name with a right-to-left override:
  // "Bērziņš\u202E..." renders reversed on the agency's page
  const users = [
    { given_name: 'Jānis', family_name: 'Bērziņš\u202Esnalak', personal_code: '010180-15097' },
    { given_name: 'Jā\u200Bnis', family_name: 'Bērziņš', personal_code: '010180-15097' },
    // invisible, but neither control nor format characters: a variation selector, a combining grapheme
    // joiner, a Hangul filler
    { given_name: 'Jānis\uFE0F', family_name: 'Bērziņš', personal_code: '010180-15097' },
    { given_name: 'Jānis', family_name: 'Bēr\u034Fziņš', personal_code: '010180-15097' },
    { given_name: 'Jānis\u3164', family_name: 'Bērziņš', personal_code: '010180-15097' },
    // a Braille blank, a non-character, an unassigned code point, a stack of combining marks
    { given_name: 'Jānis\u2800', family_name: 'Bērziņš', personal_code: '010180-15097' },
    { given_name: 'Jānis', family_name: 'Bērziņš\uFFFF', personal_code: '010180-15097' },
    { given_name: 'Jā\u0378nis', family_name: 'Bērziņš', personal_code: '010180-15097' },
    { given_name: 'Jānis', family_name: `Bērziņš${'\u0336'.repeat(8)}`, personal_code: '010180-15097' },
    // no letter at all: a blank-looking name, or punctuation alone
    { given_name: '\u2800', family_name: 'Bērziņš', personal_code: '010180-15097' },
    { given_name: 'Jānis', family_name: '-.', personal_code: '010180-15097' },
  ];
  const spoofGw = useGateway({ providers: [{ ...MOCK_PROVIDER, users }] });

  test.each([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10])(
    'a bidi override or an invisible character in a name (test person %i): refused, the service gets access_denied',
    async (user) => {
      const started = await beginLogin(spoofGw.rp);
      const page = await started.browser.follow(started.hop);
      const authorize = await chooseProvider(started.browser, page.url, 'mock-eid');
      const refused = await started.browser.follow(await mockProviderLogin(started.browser, authorize, user));
      expect(refused.status).toBe(400);
      expect(refused.body).toContain('answer could not be verified');
      const link = /href="(\/interaction\/[^"]+\/complete)"/.exec(refused.body)![1]!;
      const final = await started.browser.follow(
        await started.browser.get(new URL(link, spoofGw.issuer).toString()),
        atRp,
      );
      expect(new URL(final.location!).searchParams.get('error')).toBe('access_denied');
      const reasons = (spoofGw.audit as MemoryAuditLog).events
        .filter((e) => e.type === 'verification_error')
        .map((e) => String(e.detail?.reason));
      expect(reasons.at(-1)).toMatch(user === 10 ? /family name has no letter/ : /name contains forbidden characters/);
    },
  );
});
