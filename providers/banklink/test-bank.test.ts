// The test bank on its own: it refuses requests a real bank would refuse, and the demo variant (routers
// mounted in an app under /demo/banks/<id>, key material in files) works with the adapter.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { createPrivateKey } from 'node:crypto';
import express from 'express';
import { MemoryStore } from '../../src/store/memory.ts';
import { adapterDeps, TEST_BROWSER_DIGEST } from '../../test/support/broker.ts';
import { BANKLINK_TEST_ENTRY } from '../../test/support/provider-entries.ts';
import { newState } from '../../src/login/login-state.ts';
import { factory } from './index.ts';
import { formatDatetime } from './datetime.ts';
import { macString, signMac } from './protocol.ts';
import { demoBankRouters, ensureDemoBankMaterial, DEMO_BANKS } from './test-bank/demo.ts';
import { parseForms, submitForm } from './test-bank/forms.ts';
import { createHarness, postStartForm, CALLBACK_URL, gatewayKeys, type BanklinkHarness } from './test-harness.ts';

describe('test bank refuses bad requests', () => {
  let h: BanklinkHarness;
  beforeAll(async () => {
    h = await createHarness();
  });
  afterAll(() => h.teardown());

  const signed = async (overrides: Record<string, string>, key?: string) => {
    const gw = await gatewayKeys();
    const fields: Record<string, string> = {
      VK_SERVICE: '4012',
      VK_VERSION: '009',
      VK_SND_ID: 'VPM',
      VK_REC_ID: 'TESTBANK',
      VK_NONCE: newState(),
      VK_RETURN: CALLBACK_URL,
      VK_DATETIME: formatDatetime(new Date()),
      VK_RID: newState(),
      ...overrides,
    };
    return {
      ...fields,
      VK_MAC: signMac(macString(fields), createPrivateKey(key ?? gw.privateKeyPem), 'sha512'),
      VK_ENCODING: 'UTF-8',
      VK_LANG: 'ENG',
    };
  };
  const refusal = async (fields: Record<string, string>) => {
    const page = await postStartForm({ type: 'form', url: h.bank.url, fields });
    expect(page.status).toBe(400);
    return /<p class="error" id="reason">([^<]*)<\/p>/.exec(page.text)?.[1];
  };

  test('a well-formed request is accepted', async () => {
    expect((await postStartForm({ type: 'form', url: h.bank.url, fields: await signed({}) })).status).toBe(200);
  });

  test('each refusal names its reason', async () => {
    const { generateKeyPairSync } = await import('node:crypto');
    const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({
      type: 'pkcs8',
      format: 'pem',
    }) as string;
    expect(await refusal(await signed({}, stranger))).toBe('VK_MAC does not verify with the merchant certificate');
    expect(await refusal(await signed({ VK_SND_ID: 'OTHER' }))).toBe('VK_SND_ID is not a known merchant');
    expect(await refusal(await signed({ VK_REC_ID: 'OTHERBANK' }))).toBe('VK_REC_ID is not this bank');
    expect(await refusal(await signed({ VK_DATETIME: formatDatetime(new Date(Date.now() - 3_600_000)) }))).toBe(
      'VK_DATETIME is malformed or outside the window',
    );
    expect(await refusal(await signed({ VK_RETURN: 'javascript:alert(1)' }))).toBe('VK_RETURN must be http(s)');
    expect(await refusal(await signed({ VK_NONCE: '' }))).toBe('VK_NONCE is missing');
    expect(await refusal({ ...(await signed({})), VK_SERVICE: '1011' })).toBe('VK_SERVICE must be 4012 or 4011');
    expect(await refusal({ VK_SERVICE: '4012' })).toBe('VK_VERSION must be 008 or 009');
  });

  test('an unknown login session at the bank is refused', async () => {
    const res = await submitForm({
      action: new URL('login', h.bank.url).href,
      method: 'POST',
      fields: { session: 'nope', user: 'janis' },
    });
    expect(res.status).toBe(400);
    expect(res.text).toContain('login session unknown or expired');
  });
});

describe('demo banks mounted in-process', () => {
  let dir: string;
  let server: Server;
  let base: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'banklink-demo-'));
    const app = express();
    for (const bank of await demoBankRouters({ dir, merchantId: 'VPM' })) app.use(bank.path, bank.router);
    server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  test('key material is created once and reused', async () => {
    const first = await ensureDemoBankMaterial(dir);
    const again = await ensureDemoBankMaterial(dir);
    expect(readFileSync(again.banks['demo-bank']!.certificateFile, 'utf8')).toBe(
      readFileSync(first.banks['demo-bank']!.certificateFile, 'utf8'),
    );
    expect(Object.keys(first.banks)).toEqual(DEMO_BANKS.map((b) => b.id));
  });

  test.each([
    [
      'demo-bank',
      { version: '009', name_format: 'surname_comma_given', receiver_id: 'DEMOBANK' },
      { givenName: 'JĀNIS', familyName: 'BĒRZIŅŠ' },
    ],
    [
      'demo-legacy-bank',
      { version: '008', legacy: true, name_format: 'surname_space_given', receiver_id: 'LEGACYBANK' },
      { givenName: 'JĀNIS', familyName: 'BĒRZIŅŠ' },
    ],
  ] as const)('%s: a full login through the mounted router', async (id, extra, names) => {
    const files = await ensureDemoBankMaterial(dir);
    const config = factory.schema.parse({
      ...BANKLINK_TEST_ENTRY,
      id,
      name: { lv: id, en: id },
      url: `${base}/demo/banks/${id}/`,
      sender_id: 'VPM',
      private_key: files.gateway.keyFile,
      bank_certificate: files.banks[id]!.certificateFile,
      ...extra,
    });
    const store = new MemoryStore();
    const adapter = await factory.create(config, adapterDeps(dir, { baseUrl: base, store }));
    const state = newState();
    const loginStartedAt = Date.now();
    const started = await adapter.start({
      browser: TEST_BROWSER_DIGEST,
      state,
      callbackUrl: CALLBACK_URL,
      locale: 'lv',
      correlationId: 'c',
    });
    const page = await postStartForm(started.action);
    expect(page.status).toBe(200);
    const login = parseForms(page.text, page.url).find((f) => f.id === 'login')!;
    expect(login.action).toBe(`${base}/demo/banks/${id}/login`);
    const codePage = await submitForm(login);
    const confirm = parseForms(codePage.text, codePage.url).find((f) => f.id === 'confirm')!;
    const answerPage = await submitForm(confirm, { code: '123456' });
    const answer = parseForms(answerPage.text).find((f) => f.id === 'autopost')!;
    const { identity } = await adapter.callback({
      params: answer.fields,
      method: 'POST',
      connData: started.connData,
      callbackUrl: CALLBACK_URL,
      correlationId: 'c',
      loginStartedAt,
      authenticatedNotBefore: undefined,
    });
    expect(identity).toMatchObject({ ...names, personalCode: '010180-15097' });
    await store.close();
  });
});
