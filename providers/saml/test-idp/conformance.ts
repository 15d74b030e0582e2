// The adapter conformance target for a new SAML provider's entry: the test IdP started, the entry's
// protocol settings kept as written (binding, attribute profile, encrypted assertions, requested
// authentication context, eIDAS extensions, amr), only what names the real IdP replaced by the test
// IdP's: its metadata URL and signing certificate (or its metadata file, or entity ID, SSO URL and
// certificate, whichever way the entry learns its IdP). The test IdP answers in the entry's dialect: the
// attribute profile the entry reads, encrypted when the entry insists, at the entry's level.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AdapterHarness, Callback } from '../../../test/support/adapter-conformance.ts';
import { adapterDeps, TEST_BASE_URL } from '../../../test/support/broker.ts';
import type { Loa } from '../../../src/identity/loa.ts';
import type { AttributePreset } from '../attributes.ts';
import { factory, type SamlAdapter } from '../index.ts';
import { DEFAULT_TEST_USERS } from './options.ts';
import { parseForm } from './pages.ts';
import { startTestIdp } from './server.ts';

/** Where the entry learns its IdP, pointed at the test IdP. */
function idpSource(
  entry: Record<string, unknown>,
  idp: { entityId: string; ssoUrl: string; metadataUrl: string; metadata(): string },
  certFile: string,
  dir: string,
): Record<string, unknown> {
  if (entry.metadata_url !== undefined)
    return { metadata_url: idp.metadataUrl, metadata_signing_certificates: [certFile] };
  if (entry.idp_metadata !== undefined) {
    const file = join(dir, 'idp-metadata.xml');
    writeFileSync(file, idp.metadata());
    return { idp_metadata: file, metadata_signing_certificates: [certFile] };
  }
  return { idp: { entity_id: idp.entityId, sso_url: idp.ssoUrl, certificates: [certFile] } };
}

/**
 * Start the test IdP, make an adapter from `entry` (a `providers[]` entry as written, e.g. a scaffolded
 * `NAME.provider.yaml`'s) and return the conformance target for it.
 */
export async function samlConformanceTarget(entry: Record<string, unknown>): Promise<AdapterHarness> {
  const dir = mkdtempSync(join(tmpdir(), 'vpm-saml-conformance-'));
  // the test IdP is on loopback HTTP: no back-channel TLS, and the SP's keys are made in the key directory
  const {
    tls: _tls,
    sp: _sp,
    metadata_url,
    idp_metadata,
    idp: _idp,
    metadata_signing_certificates: _signers,
    ...own
  } = entry;
  const attributes = own.attributes ?? 'eidas';
  if (typeof attributes !== 'string')
    throw new Error('the test IdP releases attribute presets only (eidas, oid, identity-claims)');
  const id = String(own.id);
  const callbackUrl = `${TEST_BASE_URL}/broker/callback/${id}`;
  let adapter: SamlAdapter | undefined;
  const idp = await startTestIdp({
    sp: () => {
      if (!adapter) throw new Error('the SP is not ready');
      const { signing, encryption } = adapter.certificates;
      return { entityId: adapter.spEntityId, signingCert: signing, encryptionCert: encryption, acsUrl: callbackUrl };
    },
    encryptAssertions: own.require_encrypted_assertion === true,
    profile: attributes as AttributePreset,
    loa: own.loa as Loa,
  });
  const certFile = join(dir, 'idp.pem');
  writeFileSync(certFile, idp.key.cert);
  const source = idpSource({ metadata_url, idp_metadata }, idp, certFile, dir);
  const config = factory.schema.parse({ ...own, ...source });
  const deps = adapterDeps(join(dir, 'keys'));
  adapter = (await factory.create(config, deps)) as SamlAdapter;
  const user = DEFAULT_TEST_USERS[0]!;

  return {
    adapter,
    callbackUrl,
    expectedSubject: `PNO${user.country ?? 'LV'}-${user.personalCode}`,
    async drive(action, outcome): Promise<Callback> {
      const first =
        action.type === 'redirect'
          ? await fetch(action.url)
          : await fetch(action.url, { method: 'POST', body: new URLSearchParams(action.fields) });
      const html = await first.text();
      if (first.status !== 200) throw new Error(`the test IdP refused the request: ${html}`);
      const login = parseForm(html);
      const answer = await fetch(login.action, {
        method: 'POST',
        body: new URLSearchParams({ ...login.fields, user: '0', action: outcome === 'success' ? 'login' : 'cancel' }),
      });
      const post = parseForm(await answer.text());
      if (post.action !== callbackUrl) throw new Error(`the test IdP posted to ${post.action}`);
      return { method: 'POST', params: post.fields };
    },
    withState: (cb, state) => ({ ...cb, params: { ...cb.params, RelayState: state } }),
    async teardown() {
      await adapter?.close?.();
      await idp.close();
      await deps.store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
