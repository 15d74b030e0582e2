// Revocation by OCSP against the test CA's responder (real DER requests and signed responses over HTTP):
// good, revoked and unknown certificates, and every answer that cannot be trusted (bad signature, a
// signer the CA never certified, a stale answer, another nonce or none, a responder that is down, an answer
// about another certificate, one past the size limit), with OCSP required (the login is refused) and not
// required (the login goes on, the operator log says why); and an answer listing several certificates
// counts only by the one asked about.
import { BrokerError } from '../../src/login/broker-error.ts';
import { OAUTH_ERRORS } from '../../src/login/callback.ts';
import type { TestAccount } from './test-rp-api/accounts.ts';
import { TestCa } from './test-rp-api/ca.ts';
import type { OcspMode } from './test-rp-api/ocsp-responder.ts';
import { type Harness, startHarness, withHarness } from './test-harness.ts';
import { codeOf, loginAs } from './test-logins.ts';

const account = (code: string, extra: Partial<TestAccount> = {}): TestAccount => ({
  semanticsIdentifier: `PNOLV-${code}`,
  givenName: 'Pēteris',
  surname: 'Ozols',
  behaviour: 'ok',
  ...extra,
});
const good = account('320000-20001');
const revoked = account('320000-20002', { revocation: 'revoked' });
const unknown = account('320000-20003', { revocation: 'unknown' });
const accounts = [good, revoked, unknown];

let ca: TestCa;
let required: Harness;
let optional: Harness;
beforeAll(async () => {
  ca = await TestCa.create();
  required = await startHarness({ ca, accounts, ocsp: { required: true } });
  optional = await startHarness({ ca, accounts, ocsp: { required: false } });
});
afterAll(async () => {
  await required?.close();
  await optional?.close();
});
afterEach(() => {
  required.rp.api.ocsp.mode = 'normal';
  optional.rp.api.ocsp.mode = 'normal';
});

/** A login as `who`, through to the broker: its outcome, the end page shown, how many OCSP answers it took. */
async function login(h: Harness, who: TestAccount) {
  const before = h.rp.api.ocsp.answered;
  const { arrival, outcome } = await loginAs(h, codeOf(who));
  if (!('callback' in arrival)) throw new Error(`stopped on a page: ${arrival.page.status}`);
  return { outcome, endPage: arrival.endPage, asked: h.rp.api.ocsp.answered - before };
}

function refusedWith(outcome: unknown, code: string) {
  expect(outcome).toBeInstanceOf(BrokerError);
  const err = outcome as BrokerError;
  expect([err.code, OAUTH_ERRORS[err.code]!.error, err.userInformed]).toEqual([code, code, true]);
}

test('good: the login goes on, after one signed answer from the responder', async () => {
  const { outcome, asked } = await login(required, good);
  expect(outcome).toMatchObject({ identity: { subject: good.semanticsIdentifier } });
  expect(asked).toBe(1);
});

test.each([
  ['revoked', revoked],
  ['unknown to the responder', unknown],
])('%s: access_denied after a page saying the certificate is not valid', async (_name, who) => {
  for (const h of [required, optional]) {
    const { outcome, endPage } = await login(h, who);
    refusedWith(outcome, 'access_denied');
    expect(endPage).toContain('Your Smart-ID certificate has been revoked or is not valid.');
  }
});

const untrusted: [OcspMode, RegExp][] = [
  ['bad_signature', /signature does not verify/],
  ['untrusted_signer', /signature does not verify/],
  ['stale', /stale/],
  ['wrong_nonce', /nonce/],
  ['no_nonce', /nonce missing/],
  ['down', /unreachable/],
  // read only up to the 64 KiB limit: an answer held open past it is refused at once, not at the timeout
  ['oversized', /response too large/],
  ['other_certificate', /about another certificate/],
];

test.each(untrusted)(
  'required, responder %s: temporarily_unavailable with the technical page',
  async (mode, reason) => {
    required.rp.api.ocsp.mode = mode;
    const lines = required.logger.lines.length;
    const { outcome, endPage } = await login(required, good);
    refusedWith(outcome, 'temporarily_unavailable');
    expect(endPage).toMatch(/technical/i);
    const logged = required.logger.lines.slice(lines).join('\n');
    expect(logged).toMatch(reason);
    expect(logged).not.toContain(good.semanticsIdentifier.slice(6));
  },
);

test.each(untrusted)('not required, responder %s: the login goes on, the log says why', async (mode, reason) => {
  optional.rp.api.ocsp.mode = mode;
  const lines = optional.logger.lines.length;
  const { outcome } = await login(optional, good);
  expect(outcome).toMatchObject({ identity: { subject: good.semanticsIdentifier } });
  const logged = optional.logger.lines.slice(lines).join('\n');
  expect(logged).toContain('Smart-ID OCSP check failed');
  expect(logged).toMatch(reason);
});

test('a stale answer is refused even for a revoked certificate: it cannot be trusted either way', async () => {
  required.rp.api.ocsp.mode = 'stale';
  const { outcome } = await login(required, revoked);
  refusedWith(outcome, 'temporarily_unavailable');
});

test('with ocsp.nonce off, a fresh answer without a nonce counts, and a stale one still does not', async () => {
  await withHarness({ ca, accounts, ocsp: { required: true, nonce: false } }, async (h) => {
    h.rp.api.ocsp.mode = 'no_nonce';
    const { outcome, asked } = await login(h, good);
    expect(outcome).toMatchObject({ identity: { subject: good.semanticsIdentifier } });
    expect(asked).toBe(1);
    refusedWith((await login(h, revoked)).outcome, 'access_denied');
    h.rp.api.ocsp.mode = 'stale';
    refusedWith((await login(h, good)).outcome, 'temporarily_unavailable');
  });
});

test('with ocsp.nonce off, a signed "good" about another certificate does not pass for a revoked one', async () => {
  // what someone on a plain-HTTP path could replay: an answer signed in advance, about another serial number
  await withHarness({ ca, accounts, ocsp: { required: true, nonce: false } }, async (h) => {
    h.rp.api.ocsp.mode = 'other_certificate';
    const lines = h.logger.lines.length;
    const { outcome, asked } = await login(h, revoked);
    expect(asked).toBe(1);
    refusedWith(outcome, 'temporarily_unavailable');
    expect(h.logger.lines.slice(lines).join('\n')).toMatch(/about another certificate/);
  });
});

test('an answer listing "good" for another certificate first counts by the one asked about', async () => {
  await withHarness({ ca, accounts, ocsp: { required: true, nonce: false } }, async (h) => {
    h.rp.api.ocsp.mode = 'other_certificate_first';
    const { outcome, endPage } = await login(h, revoked);
    refusedWith(outcome, 'access_denied');
    expect(endPage).toContain('Your Smart-ID certificate has been revoked or is not valid.');
    expect((await login(h, good)).outcome).toMatchObject({ identity: { subject: good.semanticsIdentifier } });
  });
});
