// eIDAS request extensions: SPType and RequestedAttributes in the signed AuthnRequest, on by default with
// the eidas attribute preset, checked by the test IdP (which, like a node, refuses a request without them,
// notices any change to the signed request and releases only what was requested).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { DOMParser, type Element } from '@xmldom/xmldom';
import { MemoryStore } from '../../src/store/memory.ts';
import { adapterDeps, TEST_BROWSER_DIGEST } from '../../test/support/broker.ts';
import type { StartAction } from '../../src/broker/adapter.ts';
import { factory, type SamlAdapter } from './index.ts';
import { EIDAS_NATURAL_PERSON, type AttributePreset } from './attributes.ts';
import { EIDAS_EXTENSIONS_NS, readEidasExtensions } from './eidas.ts';
import { isElement } from './xml.ts';
import { parseForm, startTestIdp, type RunningTestIdp } from './test-idp/index.ts';
import { SAML_TEST_ENTRY } from '../../test/support/provider-entries.ts';

const BASE = 'https://gateway.test';
const ACS = `${BASE}/broker/callback/eidas`;
const NP = EIDAS_NATURAL_PERSON;

let dir: string;
const idps: RunningTestIdp[] = [];
const stores: MemoryStore[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vpm-saml-eidas-'));
});
afterAll(async () => {
  for (const idp of idps) await idp.close();
  for (const s of stores) await s.close();
  await rm(dir, { recursive: true, force: true });
});

interface Made {
  adapter: SamlAdapter;
  idp: RunningTestIdp;
}

async function make(
  extra: Record<string, unknown> = {},
  idpOptions: { profile?: AttributePreset; requireEidasExtensions?: boolean } = {},
): Promise<Made> {
  let adapter: SamlAdapter | undefined;
  const idp = await startTestIdp({
    sp: () => ({
      entityId: adapter!.spEntityId,
      signingCert: adapter!.certificates.signing,
      encryptionCert: adapter!.certificates.encryption,
      acsUrl: ACS,
    }),
    loa: 'high',
    ...idpOptions,
  });
  idps.push(idp);
  const cert = join(dir, `idp-${idps.length}.pem`);
  await writeFile(cert, idp.key.cert);
  const config = factory.schema.parse({
    ...SAML_TEST_ENTRY,
    idp: { entity_id: idp.entityId, sso_url: idp.ssoUrl, certificates: [cert] },
    ...extra,
  });
  const store = new MemoryStore();
  stores.push(store);
  adapter = (await factory.create(config, adapterDeps(join(dir, 'keys'), { baseUrl: BASE, store }))) as SamlAdapter;
  return { adapter, idp };
}

const start = (adapter: SamlAdapter) =>
  adapter.start({
    browser: TEST_BROWSER_DIGEST,
    state: 'S'.repeat(27),
    callbackUrl: ACS,
    locale: 'en',
    correlationId: 'c',
  });

/** The AuthnRequest XML as sent (for POST: with its signature). */
function requestXml(action: StartAction): string {
  if (action.type === 'redirect')
    return inflateRawSync(Buffer.from(new URL(action.url).searchParams.get('SAMLRequest')!, 'base64')).toString('utf8');
  return Buffer.from(action.fields.SAMLRequest!, 'base64').toString('utf8');
}

function childOrder(xml: string): string[] {
  const root = new DOMParser().parseFromString(xml, 'text/xml').documentElement!;
  const out: string[] = [];
  for (let n = root.firstChild; n; n = n.nextSibling) if (isElement(n)) out.push(n.localName!);
  return out;
}

/** Send the request to the IdP as a browser would; returns the IdP's status and page. */
async function send(action: StartAction): Promise<{ status: number; body: string }> {
  const res =
    action.type === 'redirect'
      ? await fetch(action.url)
      : await fetch(action.url, { method: 'POST', body: new URLSearchParams(action.fields) });
  return { status: res.status, body: await res.text() };
}

/** Log in at the IdP and return the (plain) SAML Response XML it posts back. */
async function responseXml(action: StartAction): Promise<string> {
  const page = await send(action);
  if (page.status !== 200) throw new Error(`IdP refused: ${page.body}`);
  const login = parseForm(page.body);
  const answer = await fetch(login.action, {
    method: 'POST',
    body: new URLSearchParams({ ...login.fields, user: '0', action: 'login' }),
  });
  return Buffer.from(parseForm(await answer.text()).fields.SAMLResponse!, 'base64').toString('utf8');
}

describe('eIDAS request extensions', () => {
  test('with the eidas preset the request carries SPType public and the natural-person minimum data set, after Issuer', async () => {
    const { adapter } = await make();
    const xml = requestXml((await start(adapter)).action);
    expect(childOrder(xml)).toEqual(['Issuer', 'Extensions', 'NameIDPolicy', 'RequestedAuthnContext']);
    const ext = readEidasExtensions(
      new DOMParser().parseFromString(xml, 'text/xml').documentElement! as unknown as Element,
    );
    expect(ext).toEqual({
      spType: 'public',
      requestedAttributes: [
        { name: `${NP}PersonIdentifier`, friendlyName: 'PersonIdentifier', required: true },
        { name: `${NP}CurrentFamilyName`, friendlyName: 'FamilyName', required: true },
        { name: `${NP}CurrentGivenName`, friendlyName: 'FirstName', required: true },
        { name: `${NP}DateOfBirth`, friendlyName: 'DateOfBirth', required: false },
      ],
    });
    expect(xml).toContain(`xmlns:eidas="${EIDAS_EXTENSIONS_NS}"`);
  });

  test('HTTP-POST: the enveloped signature sits between Issuer and Extensions and covers them', async () => {
    const { adapter } = await make({ binding: 'post' });
    const { action } = await start(adapter);
    if (action.type !== 'form') throw new Error('expected a form');
    expect(childOrder(requestXml(action))).toEqual([
      'Issuer',
      'Signature',
      'Extensions',
      'NameIDPolicy',
      'RequestedAuthnContext',
    ]);
    expect((await send(action)).status).toBe(200);
    // the same signed request with SPType changed, or with the Extensions removed, no longer verifies
    const signed = requestXml(action);
    for (const tampered of [
      signed.replace('>public</', '>private</'),
      signed.replace(/<samlp:Extensions[\s\S]*<\/samlp:Extensions>/, ''),
    ]) {
      expect(tampered).not.toBe(signed);
      const res = await send({
        ...action,
        fields: { ...action.fields, SAMLRequest: Buffer.from(tampered).toString('base64') },
      });
      expect(res.status).toBe(400);
      expect(res.body).toMatch(/signature/i);
    }
  });

  test('HTTP-Redirect: the query signature covers the Extensions; the IdP accepts the request', async () => {
    const { adapter } = await make({ binding: 'redirect' });
    const { action } = await start(adapter);
    expect((await send(action)).status).toBe(200);
  });

  test('an eIDAS IdP refuses a request without the extensions (eidas_extensions: false)', async () => {
    const { adapter } = await make({ eidas_extensions: false });
    const { action } = await start(adapter);
    expect(childOrder(requestXml(action))).not.toContain('Extensions');
    const res = await send(action);
    expect(res.status).toBe(400);
    expect(res.body).toContain('lacks the eIDAS extensions');
  });

  test('sp_type private and an explicit attribute list are sent as configured; the IdP releases only what was requested', async () => {
    const minimal = [
      { name: `${NP}PersonIdentifier`, required: true },
      { name: `${NP}CurrentFamilyName`, required: true },
      { name: `${NP}CurrentGivenName`, required: true },
    ];
    const { adapter } = await make({ eidas_extensions: { sp_type: 'private', requested_attributes: minimal } });
    const loginStartedAt = Date.now();
    const { action, connData } = await start(adapter);
    expect(requestXml(action)).toContain('<eidas:SPType>private</eidas:SPType>');
    const without = await responseXml(action);
    expect(without).toContain(`${NP}PersonIdentifier`);
    expect(without).not.toContain(`${NP}DateOfBirth`);
    // the answer still maps: the three mandatory attributes were requested
    const { identity } = await adapter.callback({
      params: { SAMLResponse: Buffer.from(without).toString('base64'), RelayState: 'S'.repeat(27) },
      method: 'POST',
      connData,
      callbackUrl: ACS,
      correlationId: 'c',
      loginStartedAt,
      authenticatedNotBefore: undefined,
    });
    expect(identity).toMatchObject({ personalCode: '010180-15097', givenName: 'Jānis' });

    const { adapter: full } = await make();
    const withDob = await responseXml((await start(full)).action);
    expect(withDob).toContain(`${NP}DateOfBirth`);
    expect(withDob).toContain('1980-01-01');
  });

  test('an IdP refuses a mandatory attribute it cannot provide', async () => {
    const { adapter } = await make({
      eidas_extensions: {
        requested_attributes: [
          `${NP}PersonIdentifier`,
          `${NP}CurrentFamilyName`,
          `${NP}CurrentGivenName`,
          `${NP}PlaceOfBirth`,
        ].map((name) => ({ name, required: true })),
      },
    });
    const res = await send((await start(adapter)).action);
    expect(res.status).toBe(400);
    expect(res.body).toContain('cannot provide mandatory attribute');
  });

  test('other presets send no extensions unless configured', async () => {
    const { adapter } = await make({ attributes: 'oid' }, { profile: 'oid' });
    expect(childOrder(requestXml((await start(adapter)).action))).not.toContain('Extensions');
    const { adapter: asked } = await make(
      {
        attributes: 'oid',
        eidas_extensions: {
          requested_attributes: ['urn:oid:2.5.4.5', 'urn:oid:2.5.4.4', 'urn:oid:2.5.4.42'].map((name) => ({
            name,
            required: true,
          })),
        },
      },
      { profile: 'oid' },
    );
    expect(requestXml((await start(asked)).action)).toContain('<eidas:SPType>public</eidas:SPType>');
  });

  test('configuration: requested attributes must cover the mapped ones as required', () => {
    const result = factory.schema.safeParse({
      ...SAML_TEST_ENTRY,
      idp: { entity_id: 'https://idp.test', sso_url: 'https://idp.test/sso', certificates: [import.meta.filename] },
      eidas_extensions: {
        sp_type: 'public',
        requested_attributes: [
          { name: `${NP}PersonIdentifier`, required: true },
          { name: `${NP}CurrentGivenName`, required: false },
        ],
      },
    });
    expect(result.success).toBe(false);
    const issue = result.error!.issues.find((i) => i.path.join('.') === 'eidas_extensions.requested_attributes');
    expect(issue?.message).toContain(`${NP}CurrentFamilyName`);
    expect(issue?.message).toContain(`${NP}CurrentGivenName`);
  });
});
