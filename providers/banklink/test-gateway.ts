// The banklink end-to-end tests' gateway: openid-client plays the agency service, and the gateway sends
// the browser to real test banks (4012 signed by the gateway, 3013 signed by the bank): `modernbank` (009),
// `legacybank` (legacy 008 / SHA-1, WINDOWS-1257) and `nononcebank` (4011 / 3012). Its audit is written
// to a real file log too, its claims encrypted to a test auditor.
import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MemoryAuditLog, type AuditEvent, type AuditLog } from '../../src/audit/events.ts';
import { testLog, type TestLog } from '../../test/audit/helpers.ts';
import { startTestBank, type Misbehaviour, type RunningTestBank } from './test-bank/bank.ts';
import { parseForms } from './test-bank/forms.ts';
import type { Browser, Hop } from '../../test/support/browser.ts';
import { useGateway, beginLogin, atRp, type GatewayInUse, type GatewaySetUp } from '../../test/support/gateway.ts';
import type { Store } from '../../src/store/store.ts';
import { BANKLINK_TEST_ENTRY } from '../../test/support/provider-entries.ts';
import { gatewayKeys, GATEWAY_ID } from './test-harness.ts';
import { macString, signMac } from './protocol.ts';

export const banks: Record<string, RunningTestBank> = {};
export const auditor = generateKeyPairSync('rsa', { modulusLength: 2048 });
/** the file log under the audit (set when the gateway starts) */
export const audited = {} as { files: TestLog };

/** The memory log the tests read, every event first written to a real file log: what the audit keeps. */
class FiledAuditLog extends MemoryAuditLog {
  private readonly file: AuditLog;
  constructor(file: AuditLog) {
    super();
    this.file = file;
  }
  override async record(event: AuditEvent): Promise<void> {
    await this.file.record(event);
    await super.record(event);
  }
  override close(): Promise<void> {
    return this.file.close();
  }
}

let gw: GatewayInUse;

/** Registers the gateway with its three banks in the current file; its store is `store`'s when given (the
 * tests' Redis, say), else the memory store. */
export function useBankGateway(store?: (setUp: GatewaySetUp) => Store): GatewayInUse {
  gw = useGateway(async ({ dir, cleanup }) => {
    const auditorKey = join(dir, 'auditor.pem');
    writeFileSync(auditorKey, auditor.publicKey.export({ type: 'spki', format: 'pem' }));
    audited.files = testLog({ auditor_public_key: auditorKey });
    cleanup(() => rmSync(audited.files.root, { recursive: true, force: true }));
    const keys = await gatewayKeys();
    writeFileSync(join(dir, 'gateway-key.pem'), keys.privateKeyPem, { mode: 0o600 });
    const bank = async (id: string, bankId: string, extra: Record<string, unknown>) => {
      banks[id] = await startTestBank({
        bankId,
        merchantId: GATEWAY_ID,
        merchantCertificatePem: keys.certificatePem,
        displayName: `${id} (test)`,
      });
      cleanup(() => banks[id]!.close());
      writeFileSync(join(dir, `${id}.pem`), banks[id].certificatePem);
      return {
        ...BANKLINK_TEST_ENTRY,
        id,
        name: { lv: `${id} banka`, en: `${id} bank` },
        url: banks[id].url,
        sender_id: GATEWAY_ID,
        receiver_id: bankId,
        private_key: join(dir, 'gateway-key.pem'),
        bank_certificate: join(dir, `${id}.pem`),
        ...extra,
      };
    };
    const providers = [
      await bank('modernbank', 'MODERN', { version: '009' }),
      await bank('legacybank', 'LEGACY', { version: '008', legacy: true, encoding: 'WINDOWS-1257' }),
      await bank('nononcebank', 'NONONCE', { version: '009', service: '4011' }),
    ];
    const audit = new FiledAuditLog(await audited.files.open());
    return { providers, audit, ...(store ? { store: store({ dir, cleanup }) } : {}) };
  });
  return gw;
}

export interface BankLogin {
  browser: Browser;
  login: { verifier: string; state: string; nonce: string };
  /** the gateway's answer to the bank's auto-POST (the bank's answer page when not delivered) */
  landing: Hop;
  /** the form fields the bank posted to the gateway */
  answer: Record<string, string>;
}

/** Through the gateway to the bank, log in there (or cancel), and let the bank's answer post back. */
export async function loginAtBank(
  providerId: string,
  opts: {
    user?: string;
    misbehave?: Misbehaviour;
    cancel?: boolean;
    params?: Record<string, string>;
    deliver?: boolean;
    /** the browser the login begins in (another tab of an earlier login's) */
    browser?: Browser;
  } = {},
): Promise<BankLogin> {
  const started = await beginLogin(gw.rp, { idp_hint: providerId, ui_locales: 'en', ...opts.params }, opts.browser);
  const { browser } = started;
  // gateway redirects, then its auto-submitting 4012 form posts the browser to the bank's login page
  const bankPage = await browser.follow(started.hop);
  expect(bankPage.url).toBe(banks[providerId]!.url);
  expect(bankPage.status).toBe(200);
  const forms = parseForms(bankPage.body, bankPage.url);
  let answerPage: Hop;
  if (opts.cancel) {
    const cancel = forms.find((f) => f.id === 'cancel')!;
    answerPage = await browser.post(cancel.action, cancel.fields);
  } else {
    const loginForm = forms.find((f) => f.id === 'login')!;
    const codePage = await browser.post(loginForm.action, {
      ...loginForm.fields,
      user: opts.user ?? 'janis',
      ...(opts.misbehave ? { misbehave: opts.misbehave } : {}),
    });
    const confirm = parseForms(codePage.body, codePage.url).find((f) => f.id === 'confirm')!;
    answerPage = await browser.post(confirm.action, { ...confirm.fields, code: '123456' });
  }
  const answer = parseForms(answerPage.body, answerPage.url).find((f) => f.id === 'autopost')!;
  expect(answer.action).toBe(`${gw.issuer}/broker/callback/${providerId}`);
  const landing =
    opts.deliver === false ? answerPage : await browser.post(answer.action, answer.fields, answerPage.charset);
  return { browser, login: started, landing, answer: answer.fields };
}

/** A bank's answer with some fields changed, signed anew with that bank's key: what the bank itself could send. */
export function signedByBank(providerId: string, answer: Record<string, string>, changes: Record<string, string>) {
  const fields: Record<string, string> = { ...answer, ...changes };
  delete fields.VK_MAC;
  const mac = signMac(macString(fields), createPrivateKey(banks[providerId]!.privateKeyPem), 'sha512');
  return { ...fields, VK_MAC: mac };
}

/** After a refusal: the user's page has a way back; following it gives the agency service its error. */
export async function refusedThenBack(l: BankLogin): Promise<URLSearchParams> {
  expect(l.landing.status).toBe(400);
  const back = /href="(\/interaction\/[^"]+\/complete)"/.exec(l.landing.body)?.[1];
  expect(back).toBeDefined();
  const final = await l.browser.follow(await l.browser.get(new URL(back!, gw.issuer).toString()), atRp);
  const q = new URL(final.location!).searchParams;
  expect(q.get('state')).toBe(l.login.state);
  return q;
}
