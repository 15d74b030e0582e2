// What the multi-process tests share: a test bank outside the gateway (as a real bank is), the gateway
// configuration of one instance on the shared Redis and keys, and a person's logins through the mock eID
// and through the bank, split where a test needs to act between the steps.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type * as oidc from 'openid-client';
import { stringify } from 'yaml';
import { startTestBank, type RunningTestBank } from '../../providers/banklink/test-bank/bank.ts';
import { parseForms } from '../../providers/banklink/test-bank/forms.ts';
import { generateKeyMaterial } from '../../providers/banklink/test-bank/material.ts';
import { Browser, type Hop, parseAutoPost } from '../support/browser.ts';
import { atRp, beginLogin, chooseProvider, mockProviderLogin, RP_REDIRECT, RP_SECRET } from '../support/gateway.ts';
import { BANKLINK_TEST_ENTRY, MOCK_PROVIDER } from '../support/provider-entries.ts';

export const PERSONAL_CODE = '010180-15097';

/** The test bank on its own port, and its entry (keys written into `dir`). */
export async function testBank(dir: string): Promise<{ bank: RunningTestBank; entry: Record<string, unknown> }> {
  const gateway = await generateKeyMaterial('vpm-gateway multi-instance test');
  const bank = await startTestBank({
    bankId: 'TESTBANK',
    merchantId: 'VPM',
    merchantCertificatePem: gateway.certificatePem,
  });
  writeFileSync(join(dir, 'bank-gateway-key.pem'), gateway.privateKeyPem, { mode: 0o600 });
  writeFileSync(join(dir, 'bank-certificate.pem'), bank.certificatePem);
  const entry = {
    ...BANKLINK_TEST_ENTRY,
    url: bank.url,
    sender_id: 'VPM',
    receiver_id: 'TESTBANK',
    private_key: join(dir, 'bank-gateway-key.pem'),
    bank_certificate: join(dir, 'bank-certificate.pem'),
  };
  return { bank, entry };
}

export interface InstanceSettings {
  dir: string;
  issuer: string;
  port: number;
  redisUrl: string;
  prefix: string;
  bank: Record<string, unknown>;
  /** audit directory and log name of this instance */
  audit: { dir: string; name?: string };
}

/** Writes the instance's configuration file and returns its path. */
export function instanceConfig(file: string, s: InstanceSettings): string {
  const config = {
    issuer: s.issuer,
    port: s.port,
    store: { type: 'redis', url: s.redisUrl, prefix: s.prefix },
    // shared by every instance: token signing keys and the mock eID's key, cookie keys
    keys: { dir: join(s.dir, 'keys') },
    cookie_keys: ['multi-instance-cookie-key-0123456789abcdef'],
    log_level: 'debug',
    metrics: { port: 0 },
    audit: { ...s.audit, signing_key: join(s.dir, 'audit-key/checkpoint.pem') },
    clients: [
      {
        client_id: 'rp',
        client_name: 'Test e-service',
        client_secret: RP_SECRET,
        redirect_uris: [RP_REDIRECT],
      },
    ],
    providers: [MOCK_PROVIDER, s.bank],
  };
  writeFileSync(file, stringify(config));
  return file;
}

export type Kind = 'mock' | 'bank';

/** A login brought to the provider's page: the person has not chosen yet. */
export interface AtProvider {
  kind: Kind;
  login: Awaited<ReturnType<typeof beginLogin>>;
  page: Hop;
}

/** `browser`: one with connections of its own (a client address of 127.0.0.0/8), else the shared fetch. */
export async function toProvider(rp: oidc.Configuration, kind: Kind, browser = new Browser()): Promise<AtProvider> {
  const login = await beginLogin(rp, {}, browser);
  const b = login.browser;
  const selection = await b.follow(login.hop, (h) => h.status === 200 || atRp(h));
  if (selection.status !== 200) throw new Error(`no selection page: ${selection.status} ${selection.url}`);
  const chosen = await chooseProvider(b, selection.url, kind === 'mock' ? 'mock-eid' : 'testbank');
  if (kind === 'mock') {
    if (!chosen.location?.includes('/providers/mock-eid/authorize'))
      throw new Error(`no mock redirect: ${chosen.status}`);
    return { kind, login, page: chosen };
  }
  // the gateway's signed request auto-posts to the bank, which shows its login page
  const page = await b.follow(chosen, (h) => h.status === 200 && !parseAutoPost(h.body, h.url));
  return { kind, login, page };
}

/** The person authenticates at the provider; returns the redirect to the service, with code or error. */
export async function finishAtProvider({ kind, login, page }: AtProvider): Promise<URL> {
  const b = login.browser;
  let back: Hop;
  if (kind === 'mock') back = await mockProviderLogin(b, page, 0);
  else back = await bankAnswerPage({ kind, login, page });
  const final = await b.follow(back, atRp);
  if (!atRp(final))
    throw new Error(`login did not come back: ${final.status} ${final.url} ${final.body.slice(0, 300)}`);
  return new URL(final.location!);
}

/** At the bank: log in as janis, confirm with the one-time code; the page auto-posting the signed answer. */
export async function bankAnswerPage({ login, page }: AtProvider): Promise<Hop> {
  const b = login.browser;
  const form = parseForms(page.body, page.url).find((f) => f.id === 'login');
  if (!form) throw new Error(`no bank login form: ${page.status} ${page.url} ${page.body.slice(0, 200)}`);
  const codePage = await b.post(form.action, { ...form.fields, user: 'janis' });
  const confirm = parseForms(codePage.body, codePage.url).find((f) => f.id === 'confirm')!;
  return b.post(confirm.action, { ...confirm.fields, code: '123456' });
}

/** A whole login: the service's redirect with the code, and what it sent (for the token request). */
export async function login(rp: oidc.Configuration, kind: Kind, browser?: Browser) {
  const at = await toProvider(rp, kind, browser);
  return { ...at.login, callback: await finishAtProvider(at) };
}
