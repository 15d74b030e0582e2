// IssueInstant of the Response and of the Assertion (SAML core 3.2.2, 2.3.3), with real keys and real XML
// signatures: both are issued in answer to this login's AuthnRequest, so one dated before the login started
// (a signed response kept from an earlier login) or ahead of now (dated to outlive its checks) is refused,
// beyond the configured clock skew (30 s here); within it, the IdP's clock may differ from ours.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryStore } from '../../src/store/memory.ts';
import { adapterDeps } from '../../test/support/broker.ts';
import { SAML_TEST_ENTRY } from '../../test/support/provider-entries.ts';
import { EIDAS_NATURAL_PERSON } from './attributes.ts';
import { factory, type SamlAdapter } from './index.ts';
import { generateKeyPair, type KeyPair } from './keys.ts';
import { issueResponse, type ResponseSpec } from './test-idp/response-builder.ts';
import { pendingSamlLogin } from './test-pending-login.ts';

const BASE = 'https://gateway.test';
const ACS = `${BASE}/broker/callback/eidas`;
const IDP = 'https://idp.test/metadata';
const SKEW_MS = 30_000;
const PERSON = {
  [`${EIDAS_NATURAL_PERSON}PersonIdentifier`]: ['LV/LV/010180-15097'],
  [`${EIDAS_NATURAL_PERSON}CurrentGivenName`]: ['Jānis'],
  [`${EIDAS_NATURAL_PERSON}CurrentFamilyName`]: ['Bērziņš'],
};

let dir: string;
let idpKey: KeyPair;
let store: MemoryStore;
let adapter: SamlAdapter;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vpm-saml-issue-instant-'));
  idpKey = await generateKeyPair('idp.test');
  await writeFile(join(dir, 'idp.pem'), idpKey.cert);
  store = new MemoryStore();
  const config = factory.schema.parse({
    ...SAML_TEST_ENTRY,
    // never contacted: the tests hand the adapter the IdP's signed responses directly
    idp: { entity_id: IDP, sso_url: 'http://127.0.0.1:9/sso', certificates: [join(dir, 'idp.pem')] },
    clock_skew_seconds: SKEW_MS / 1000,
  });
  adapter = (await factory.create(config, adapterDeps(join(dir, 'keys'), { baseUrl: BASE, store }))) as SamlAdapter;
});
afterAll(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

/** The answer to a login started now, issued as `instants` say, signed by the IdP: its outcome. */
async function answered(instants: (loginStartedAt: number) => Partial<ResponseSpec>) {
  const login = await pendingSamlLogin(adapter, { acs: ACS, idp: IDP, attributes: PERSON, correlationId: 'issued' });
  const xml = await issueResponse({ ...login.spec, ...instants(login.loginStartedAt) }, { key: idpKey });
  return login.deliver(xml).then(
    (result) => `accepted ${result.identity.personalCode}`,
    (err: { code?: string; message?: string }) => `${err.code}: ${err.message}`,
  );
}

test.each(['responseIssueInstant', 'assertionIssueInstant'] as const)(
  '%s within the clock skew either side is accepted',
  async (which) => {
    expect(await answered((started) => ({ [which]: started - SKEW_MS + 1000 }))).toBe('accepted 010180-15097');
    expect(await answered(() => ({ [which]: Date.now() + SKEW_MS - 1000 }))).toBe('accepted 010180-15097');
  },
);

test.each([
  ['responseIssueInstant', 'Response'],
  ['assertionIssueInstant', 'Assertion'],
] as const)('%s before this login started (a response kept from an earlier login) is refused', async (which, what) => {
  expect(await answered((started) => ({ [which]: started - 10 * 60_000 }))).toMatch(
    new RegExp(`^invalid_response: .*${what} IssueInstant is 600 s before this login started \\(allowed 30 s\\)`),
  );
  expect(await answered((started) => ({ [which]: started - SKEW_MS - 2000 }))).toMatch(
    new RegExp(`${what} IssueInstant is 32 s before this login started`),
  );
});

test.each([
  ['responseIssueInstant', 'Response'],
  ['assertionIssueInstant', 'Assertion'],
] as const)('%s ahead of now beyond the skew is refused', async (which, what) => {
  expect(await answered(() => ({ [which]: Date.now() + 10 * 60_000 }))).toMatch(
    new RegExp(`^invalid_response: .*${what} IssueInstant is (599|600) s in the future \\(allowed clock skew 30 s\\)`),
  );
});
