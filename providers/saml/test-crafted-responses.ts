// What the SAML attack tests share: the IdP's key and an attacker's, the adapter under attack (and one
// requiring encrypted assertions) handed crafted responses directly, a login pending at it, and the edits
// an attacker who saw a signed response can make without any key.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DOMParser, XMLSerializer, type Document, type Element } from '@xmldom/xmldom';
import { MemoryStore } from '../../src/store/memory.ts';
import { adapterDeps } from '../../test/support/broker.ts';
import { ProviderError } from '../../src/broker/adapter.ts';
import { factory, type SamlAdapter } from './index.ts';
import { generateKeyPair, type KeyPair } from './keys.ts';
import { EIDAS_NATURAL_PERSON } from './attributes.ts';
import { NS } from './xml.ts';
import { newId } from './test-idp/response-builder.ts';
import { pendingSamlLogin } from './test-pending-login.ts';
import { SAML_TEST_ENTRY } from '../../test/support/provider-entries.ts';

export const BASE = 'https://gateway.test';
export const ACS = `${BASE}/broker/callback/eidas`;
export const IDP = 'https://idp.test/metadata';
export const PID = `${EIDAS_NATURAL_PERSON}PersonIdentifier`;
export const VICTIM = 'LV/LV/010180-15097';
export const OTHER = 'LV/LV/120345-12345';

/** set by useCraftedResponses()'s beforeAll: the IdP's and the attacker's keys, the adapters under attack */
export const attack = {} as {
  dir: string;
  idpKey: KeyPair;
  attackerKey: KeyPair;
  store: MemoryStore;
  adapter: SamlAdapter;
  /** requires encrypted assertions, POST binding */
  encryptingAdapter: SamlAdapter;
};

async function makeAdapter(extra: Record<string, unknown>, keyDir: string): Promise<SamlAdapter> {
  const config = factory.schema.parse({
    ...SAML_TEST_ENTRY,
    // never contacted: these tests hand the adapter crafted responses directly
    idp: { entity_id: IDP, sso_url: 'http://127.0.0.1:9/sso', certificates: [join(attack.dir, 'idp.pem')] },
    clock_skew_seconds: 30,
    ...extra,
  });
  return (await factory.create(config, adapterDeps(keyDir, { baseUrl: BASE, store: attack.store }))) as SamlAdapter;
}

/** Registers the keys' and adapters' beforeAll, and their removal, in the current file. */
export function useCraftedResponses(): void {
  beforeAll(async () => {
    attack.dir = await mkdtemp(join(tmpdir(), 'vpm-saml-attacks-'));
    [attack.idpKey, attack.attackerKey] = await Promise.all([generateKeyPair('idp.test'), generateKeyPair('idp.test')]);
    await writeFile(join(attack.dir, 'idp.pem'), attack.idpKey.cert);
    attack.store = new MemoryStore();
    attack.adapter = await makeAdapter({}, join(attack.dir, 'keys'));
    attack.encryptingAdapter = await makeAdapter(
      { require_encrypted_assertion: true, binding: 'post' },
      join(attack.dir, 'keys'),
    );
  });
  afterAll(async () => {
    await attack.store.close();
    await rm(attack.dir, { recursive: true, force: true });
  });
}

/** A login that has sent its AuthnRequest: what the broker would hold. */
export const pendingLogin = (a: SamlAdapter = attack.adapter) =>
  pendingSamlLogin(a, { acs: ACS, idp: IDP, attributes: attributesOf(VICTIM), correlationId: 'attack' });

export function attributesOf(pid: string): Record<string, string[]> {
  return {
    [PID]: [pid],
    [`${EIDAS_NATURAL_PERSON}CurrentGivenName`]: ['Jānis'],
    [`${EIDAS_NATURAL_PERSON}CurrentFamilyName`]: ['Bērziņš'],
  };
}

export const parse = (xml: string): Document => new DOMParser().parseFromString(xml, 'text/xml');
export const serialize = (doc: Document): string => new XMLSerializer().serializeToString(doc);
export const assertionOf = (doc: Document | Element): Element => doc.getElementsByTagNameNS(NS.saml, 'Assertion')[0]!;

/** Edit a signed response's DOM (what an attacker who saw it can do without any key). */
export function edit(xml: string, fn: (doc: Document) => void): string {
  const doc = parse(xml);
  fn(doc);
  return serialize(doc);
}

/** The attacker's forged assertion: a copy of the genuine one naming another person, with a fresh ID. */
export function evilCopy(doc: Document, genuine: Element): Element {
  const evil = genuine.cloneNode(true) as Element;
  evil.setAttribute('ID', newId());
  for (const v of Array.from(evil.getElementsByTagNameNS(NS.saml, 'AttributeValue')))
    if (v.textContent === VICTIM) v.textContent = OTHER;
  // leave the copied signature in place: it names the genuine assertion's ID
  return doc.importNode(evil, true) as Element;
}

export async function refused(p: Promise<unknown>, code: string, detail?: RegExp): Promise<void> {
  const err = await p.catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ProviderError);
  expect((err as ProviderError).code).toBe(code);
  if (detail) expect((err as ProviderError).detail).toMatch(detail);
}
