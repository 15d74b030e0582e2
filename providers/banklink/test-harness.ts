// Test harness: a real test bank on loopback and a banklink adapter configured against it, plus a
// scriptless "browser" that follows the forms (gateway form -> bank login -> one-time code -> answer).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StartAction } from '../../src/broker/adapter.ts';
import type { AdapterHarness, Callback } from '../../test/support/adapter-conformance.ts';
import { adapterDeps } from '../../test/support/broker.ts';
import { BANKLINK_TEST_ENTRY } from '../../test/support/provider-entries.ts';
import { type BanklinkAdapter, factory, type BanklinkConfig } from './index.ts';
import { startTestBank, type Misbehaviour, type RunningTestBank, type TestBankOptions } from './test-bank/bank.ts';
import { generateKeyMaterial, type KeyMaterial, loadOrCreateKeyMaterial } from './test-bank/material.ts';
import { parseForms, submitForm, type HtmlForm } from './test-bank/forms.ts';

export const GATEWAY_ID = 'VPM';
export const BANK_ID = 'TESTBANK';
export const CALLBACK_URL = 'https://gateway.test/callback/testbank';

let gatewayMaterial: Promise<KeyMaterial> | undefined;
/** One gateway key for the whole test file (RSA generation is the slow part). */
export function gatewayKeys(): Promise<KeyMaterial> {
  gatewayMaterial ??= generateKeyMaterial('vpm-gateway test');
  return gatewayMaterial;
}

export interface DriveOptions {
  user?: string;
  misbehave?: Misbehaviour;
  code?: string;
}

export interface BanklinkHarness extends AdapterHarness {
  adapter: BanklinkAdapter;
  bank: RunningTestBank;
  deps: ReturnType<typeof adapterDeps>;
  config: BanklinkConfig;
  dir: string;
  /** like drive(), with a chosen user, bank behaviour or code */
  login(action: StartAction, outcome: 'success' | 'cancel', options?: DriveOptions): Promise<Callback>;
}

/** The page the bank shows after the gateway's form is posted (a login page or a refusal). */
export async function postStartForm(action: StartAction): Promise<{ status: number; text: string; url: string }> {
  if (action.type !== 'form') throw new Error(`expected a form action, got ${action.type}`);
  return submitForm({ action: action.url, method: 'POST', fields: action.fields });
}

function formById(html: string, id: string, pageUrl: string): HtmlForm {
  const form = parseForms(html, pageUrl).find((f) => f.id === id);
  if (!form) throw new Error(`page has no form #${id}: ${html.slice(0, 400)}`);
  return form;
}

export async function createHarness(
  overrides: Partial<Record<keyof BanklinkConfig, unknown>> = {},
  bankOptions: Partial<TestBankOptions> = {},
  expectedSubject = 'PNOLV-010180-15097',
): Promise<BanklinkHarness> {
  const dir = mkdtempSync(join(tmpdir(), 'banklink-test-'));
  const gw = await gatewayKeys();
  const bank = await startTestBank({
    bankId: BANK_ID,
    merchantId: GATEWAY_ID,
    merchantCertificatePem: gw.certificatePem,
    ...bankOptions,
  });
  writeFileSync(join(dir, 'gateway-key.pem'), gw.privateKeyPem, { mode: 0o600 });
  writeFileSync(join(dir, 'bank-cert.pem'), bank.certificatePem);
  const config = factory.schema.parse({
    ...BANKLINK_TEST_ENTRY,
    url: bank.url,
    sender_id: GATEWAY_ID,
    receiver_id: BANK_ID,
    private_key: join(dir, 'gateway-key.pem'),
    bank_certificate: join(dir, 'bank-cert.pem'),
    ...overrides,
  });
  const deps = adapterDeps(dir);
  const adapter = (await factory.create(config, deps)) as BanklinkAdapter;

  const login = async (
    action: StartAction,
    outcome: 'success' | 'cancel',
    options: DriveOptions = {},
  ): Promise<Callback> => {
    const start = await postStartForm(action);
    if (start.status !== 200) throw new Error(`bank refused the request: ${start.text}`);
    let answerPage: string;
    if (outcome === 'cancel') {
      answerPage = (await submitForm(formById(start.text, 'cancel', start.url))).text;
    } else {
      const loginForm = formById(start.text, 'login', start.url);
      const codePage = await submitForm(loginForm, {
        user: options.user ?? 'janis',
        ...(options.misbehave ? { misbehave: options.misbehave } : {}),
      });
      const confirm = formById(codePage.text, 'confirm', codePage.url);
      answerPage = (await submitForm(confirm, { code: options.code ?? '123456' })).text;
    }
    const answer = formById(answerPage, 'autopost', bank.url);
    expect(answer.action).toBe(CALLBACK_URL);
    return { method: 'POST', params: answer.fields };
  };

  return {
    adapter,
    bank,
    deps,
    config,
    dir,
    callbackUrl: CALLBACK_URL,
    expectedSubject,
    login,
    drive: (action, outcome) => login(action, outcome),
    withState: (cb, state) => ({ ...cb, params: { ...cb.params, VK_RID: state } }),
    teardown: async () => {
      await bank.close();
      await deps.store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** `npm run test-bank`'s arguments against a merchant certificate written in `dir`, as the demo's first start
 * writes its own (var/dev/banklink/gateway), with the bank's keys in `dir` too. */
export async function standaloneBankArgs(dir: string): Promise<string[]> {
  const merchant = await loadOrCreateKeyMaterial(join(dir, 'gateway'), 'vpm-gateway banklink (development)');
  return ['--port', '0', '--merchant-cert', merchant.certificateFile, '--key-dir', join(dir, 'testbank')];
}
