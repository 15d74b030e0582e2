// Smart-ID RP API v3: the checks of a completed session that no other test pins (README, Smart-ID
// "Before a login is accepted"). The answer must be signed for the flow this login started (flowType is
// inside the signed ACSP_V2 payload, so only the comparison with the flow started binds the two: a QR login
// must be answered in flow QR, a notification in flow Notification); the level released is never above the
// entry's `loa`; the certificate's subject C is the country of its serialNumber, the leaf is valid now and is
// no CA, and every issuing CA is valid now. Each defect is a real signed answer from the test RP API (the
// certificates from TestCa.issuePerson, the expired CA and the answer from ./test-odd-answers.ts) and ends as
// access_denied with the gateway's page.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { OAUTH_ERRORS } from '../../src/login/callback.ts';
import { BrokerError } from '../../src/login/broker-error.ts';
import type { TestAccount } from './test-rp-api/accounts.ts';
import { type Authority, type CertificateOptions, TestCa } from './test-rp-api/ca.ts';
import type { TestSession } from './test-rp-api/sessions.ts';
import { type Harness, startHarness, withHarness } from './test-harness.ts';
import { follow, visit } from './test-user.ts';
import { beginLogin, codeOf, type LoginEnd, loginAs } from './test-logins.ts';
import { answerWith, expiredIssuingCa } from './test-odd-answers.ts';

/** A person whose phone answers when the test says; also whose phone opens QR codes. */
const holder: TestAccount = {
  semanticsIdentifier: 'PNOLV-320024-10001',
  givenName: 'Marta',
  surname: 'Kalna',
  behaviour: 'phone',
};

let ca: TestCa;
let expiredCa: Authority & { pem: string };
let dir: string;
let h: Harness;
beforeAll(async () => {
  ca = await TestCa.create();
  expiredCa = await expiredIssuingCa(ca);
  // the entry trusts the test CA and, left in the file, an SK issuing CA that has since expired
  dir = mkdtempSync(join(tmpdir(), 'smartid-checks-'));
  const cas = join(dir, 'sk-ca.pem');
  writeFileSync(cas, `${expiredCa.pem}${ca.pem}`);
  h = await startHarness({ ca, accounts: [holder], entry: { ca_certificates: [cas] } });
});
afterAll(async () => {
  await h.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A notification login for the holder whose running session the phone answers as `answer` does. */
async function notificationLogin(answer: (session: TestSession) => Promise<void>): Promise<LoginEnd> {
  const login = await beginLogin(h);
  expect((await visit(login.action.url)).status).toBe(200);
  const waiting = await visit(`${h.origin}${h.adapter.pagesPath}/login`, { h: login.handle, ...codeOf(holder) });
  const session = h.rp.api.running(holder.semanticsIdentifier)[0]!;
  expect(session.flowType).toBe('Notification');
  await answer(session);
  return login.end(await follow(h, waiting));
}

/** A notification login confirmed by the app signing with a certificate that has `defects`. */
const signedWith = (defects: CertificateOptions) =>
  notificationLogin(async (session) => answerWith(h.rp.api, session, await ca.issuePerson(holder, defects)));

/** The login was refused after the callback: access_denied, the gateway's own page, `detail` in the log. */
function expectRefused({ outcome }: LoginEnd, detail: RegExp): void {
  expect(outcome).toBeInstanceOf(BrokerError);
  const err = outcome as BrokerError;
  expect([err.code, OAUTH_ERRORS[err.code]!.error, err.userInformed]).toEqual([
    'invalid_response',
    'access_denied',
    false,
  ]);
  expect(err.detail).toMatch(detail);
}

describe('the answer must be signed for the flow this login started', () => {
  test('a notification login confirmed by an answer signed for flow QR is refused', async () => {
    const end = await notificationLogin(async (session) => {
      session.flowType = 'QR'; // the app signs (and reports) flow QR over this login's rpChallenge
      await h.phone(holder.semanticsIdentifier, 'confirm');
    });
    expectRefused(end, /flow QR is not the one started/);
  });

  test('a QR login confirmed by an answer signed for flow Web2App is refused', async () => {
    const login = await beginLogin(h);
    expect((await visit(login.action.url)).body).toContain('data-flow="qr"');
    const waiting = await visit(`${h.origin}${h.adapter.pagesPath}/qr`, { h: login.handle });
    const session = [...h.rp.api.sessions.values()].at(-1)!;
    expect([session.flowType, session.account.semanticsIdentifier]).toEqual(['QR', holder.semanticsIdentifier]);
    session.flowType = 'Web2App';
    expect(await h.rp.api.act(session.id, 'confirm')).toBe(true);
    expectRefused(await login.end(await follow(h, waiting)), /flow Web2App is not the one started/);
  });
});

describe('the authentication certificate', () => {
  test('the same way of answering, with a certificate without defect, logs the holder in', async () => {
    const { outcome } = await signedWith({});
    expect(outcome).toMatchObject({ identity: { subject: holder.semanticsIdentifier, country: 'LV', loa: 'high' } });
  });

  test("a subject whose C is not the serialNumber's country (PNOLV-… with C=EE) is refused", async () => {
    expectRefused(await signedWith({ country: 'EE' }), /subject C differs from the serialNumber country/);
  });

  test('a certificate not valid yet is refused', async () => {
    expectRefused(await signedWith({ notYetValid: true }), /certificate is not valid yet/);
  });

  test.each(['signs', 'flag'] as const)('a leaf that is a CA certificate (%s) is refused', async (isCa) => {
    expectRefused(await signedWith({ isCa }), /is a CA certificate/);
  });

  test('a certificate issued by a configured SK CA that has expired is refused', async () => {
    expectRefused(await signedWith({ issuer: expiredCa }), /issuing CA .*EID-Q 2016E.* has expired/);
  });
});

test('an entry configured for loa substantial releases a QUALIFIED certificate at substantial, not high', async () => {
  await withHarness({ ca, accounts: [holder], entry: { loa: 'substantial' } }, async (sub) => {
    const { outcome } = await loginAs(sub, codeOf(holder), { phone: 'confirm' });
    expect(outcome).toMatchObject({ identity: { subject: holder.semanticsIdentifier, loa: 'substantial' } });
    const session = [...sub.rp.api.sessions.values()].at(-1)!;
    expect([session.requestedLevel, session.certificateLevel]).toEqual(['QUALIFIED', 'QUALIFIED']);
  });
});
