// A configured OCSP responder certificate (ocsp.responder_certificates) that expires while the gateway runs.
// Production refuses to start with an expired one; a gateway started before the expiry must not go on
// trusting the answers it signs after it either: with OCSP required, the login ends as a technical failure
// (temporarily_unavailable, the technical page leading back to the service) and the log names the expiry.
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import { BrokerError } from '../../src/login/broker-error.ts';
import { setClock } from '../../test/support/clock.ts';
import type { TestAccount } from './test-rp-api/accounts.ts';
import { TestCa } from './test-rp-api/ca.ts';
import { type RunningTestRpApi, startTestRpApi } from './test-rp-api/listen.ts';
import { type Harness, RP_NAME, RP_UUID, startHarness } from './test-harness.ts';
import { codeOf, loginAs } from './test-logins.ts';

const holder: TestAccount = {
  semanticsIdentifier: 'PNOLV-320000-20011',
  givenName: 'Līga',
  surname: 'Kalniņa',
  behaviour: 'ok',
};

let rp: RunningTestRpApi;
let production: Harness;
let notAfter: number;
let dir: string;

beforeAll(async () => {
  // SK's live environment (production refuses the demo one); the RP API's responder answers, in
  // untrusted_signer mode, with a signer its CA never certified: an answer that counts only because the
  // relying party configured that signer's certificate
  const ca = await TestCa.create();
  rp = await startTestRpApi({
    ca,
    relyingParties: [{ uuid: RP_UUID, name: RP_NAME }],
    accounts: [holder],
    schemeName: 'smart-id',
  });
  const pem = await rp.api.ocsp.uncertifiedSignerPem();
  notAfter = new X509Certificate(pem).validToDate.getTime();
  dir = mkdtempSync(join(tmpdir(), 'smartid-responder-'));
  writeFileSync(join(dir, 'ocsp-responder.pem'), pem);
  production = await startHarness({
    ca,
    rp,
    production: true,
    entry: { environment: 'live' },
    ocsp: { required: true, responder_certificates: [join(dir, 'ocsp-responder.pem')] },
  });
  rp.api.ocsp.mode = 'untrusted_signer';
});
afterEach(() => jest.useRealTimers());
afterAll(async () => {
  await production?.close();
  await rp?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function login() {
  const lines = production.logger.lines.length;
  const { arrival, outcome } = await loginAs(production, codeOf(holder));
  if (!('callback' in arrival)) throw new Error(`stopped on a page: ${arrival.page.status}`);
  return { outcome, endPage: arrival.endPage, logged: production.logger.lines.slice(lines).join('\n') };
}

test('before the configured responder certificate expires, the answers it signs count', async () => {
  setClock(notAfter - 86_400_000);
  const { outcome } = await login();
  expect(outcome).toMatchObject({ identity: { subject: holder.semanticsIdentifier } });
});

test('after it expired, its answers are not trusted: temporarily_unavailable, the log names the expiry', async () => {
  setClock(notAfter + 60_000);
  const { outcome, endPage, logged } = await login();
  expect(outcome).toBeInstanceOf(BrokerError);
  expect(outcome).toMatchObject({ code: 'temporarily_unavailable', userInformed: true });
  expect(endPage).toMatch(/technical/i);
  expect(logged).toContain('Smart-ID OCSP check failed');
  expect(logged).toMatch(/signature does not verify.*no longer trusted: responder certificate .* expired on /);
  expect(logged).toContain(new Date(notAfter).toISOString());
});
