// What a test login report refuses: each VPM requirement missing from what came back in turn.
import { entryAlgorithms, judgeTestLogin, type TestLoginEvidence } from '../../src/onboarding/test-login/report.ts';

const START = new Date('2026-06-01T12:00:00Z');
const good: TestLoginEvidence = {
  provider: 'bank-a',
  loa: 'substantial',
  startedAt: START,
  now: new Date('2026-06-01T12:01:00Z'),
  claims: {
    given_name: 'JĀNIS',
    family_name: 'BĒRZIŅŠ',
    personal_code: '010180-15097',
    personal_code_country: 'LV',
    amr: ['smartid'],
    acr: 'substantial',
    auth_time: START.getTime() / 1000 + 30,
  },
  idTokenAlg: 'PS256',
  providerAlgorithms: ['009', 'SHA-512'],
};

const failing = (change: Partial<TestLoginEvidence> & { claims?: Record<string, unknown> }) => {
  const report = judgeTestLogin({ ...good, ...change, claims: { ...good.claims, ...change.claims } });
  return report.checks.filter((c) => !c.ok).map((c) => `${c.check}: ${c.detail}`);
};

test('everything the joining conditions ask for passes, and the report holds no personal data', () => {
  const report = judgeTestLogin(good);
  expect(report.ok).toBe(true);
  expect(JSON.stringify(report)).not.toMatch(/JĀNIS|BĒRZIŅŠ|010180/);
});

test.each([
  [{ claims: { given_name: undefined } }, 'names: given_name or family_name missing'],
  [{ claims: { family_name: ' ' } }, 'names: given_name or family_name missing'],
  [{ claims: { personal_code: '010180-15098' } }, 'personal_code: personal_code is not a valid personal code'],
  [{ claims: { personal_code_country: undefined } }, 'personal_code: personal_code or personal_code_country missing'],
  [{ claims: { amr: ['pwd'] } }, 'two_factor: amr: pwd'],
  [{ claims: { amr: undefined } }, 'two_factor: no amr: the authentication method is not stated'],
  [{ claims: { acr: 'low' } }, 'level: acr low (registered level substantial)'],
  [
    { claims: { auth_time: START.getTime() / 1000 - 3600 } },
    'auth_time: 2026-06-01T11:00:00.000Z outside this test login',
  ],
  [{ idTokenAlg: 'none' }, 'signature: ID token none; provider 009, SHA-512'],
  [{ providerAlgorithms: ['008'] }, 'signature: ID token PS256; provider 008 (weak: 008)'],
  [{ providerAlgorithms: ['RS1'] }, 'signature: ID token PS256; provider RS1 (weak: RS1)'],
])('%j fails with %s', (change, expected) => {
  expect(failing(change as Partial<TestLoginEvidence>)).toEqual([expected]);
});

test("an entry's algorithm settings are found by field name, wherever they stand", () => {
  expect(
    entryAlgorithms({
      version: '008',
      url: 'https://x',
      idp: { signature_alg: 'RS256' },
      assurance: { hash: ['SHA-1'] },
    }),
  ).toEqual(['008', 'RS256', 'SHA-1']);
});
