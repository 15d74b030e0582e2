// What the IdP metadata tests share: the IdP's metadata signing key and a stranger's, a test IdP that is
// never served (its metadata only), and files in a temporary directory removed after the tests, with
// whatever else a test registers to close.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TEST_BROWSER_DIGEST } from '../../test/support/broker.ts';
import { generateKeyPair, type KeyPair } from './keys.ts';
import { createTestIdp, type TestIdp } from './test-idp/index.ts';

export const BASE = 'https://gateway.test';
export const ACS = `${BASE}/broker/callback/eidas`;
/** the start every login of these tests makes */
export const START = {
  browser: TEST_BROWSER_DIGEST,
  state: 'S'.repeat(27),
  callbackUrl: ACS,
  locale: 'en',
  correlationId: 'c',
} as const;
export const HOUR = 3_600_000;
/** a certificate's base64 body, for comparing PEM with what metadata carries */
export const body = (pem: string) => pem.replace(/-----(BEGIN|END) CERTIFICATE-----|\s/g, '');

/** set by useMetadataFixture()'s beforeAll */
export const fixture = {} as {
  dir: string;
  idpKey: KeyPair;
  otherKey: KeyPair;
  /** never served: used for its metadata only */
  paper: TestIdp;
};
/** run after all tests of the file, before the directory is removed */
export const closers: (() => Promise<void>)[] = [];

/** Registers the fixture's beforeAll and afterAll in the current file. */
export function useMetadataFixture(): void {
  beforeAll(async () => {
    fixture.dir = await mkdtemp(join(tmpdir(), 'vpm-saml-metadata-'));
    [fixture.idpKey, fixture.otherKey] = await Promise.all([generateKeyPair('idp.test'), generateKeyPair('other')]);
    fixture.paper = await createTestIdp({
      baseUrl: 'https://idp.test',
      key: fixture.idpKey,
      sp: { entityId: 'unused', signingCert: fixture.idpKey.cert },
    });
  });
  afterAll(async () => {
    for (const close of closers) await close();
    await rm(fixture.dir, { recursive: true, force: true });
  });
}

/** A file `name` with `content` in the fixture's directory; its path. */
export const file = async (name: string, content: string) => {
  const path = join(fixture.dir, name);
  await writeFile(path, content);
  return path;
};
