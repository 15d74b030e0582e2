// The demo's SAML IdP: the test IdP mounted in-process under /demo/saml-idp, so `npm start` offers a
// real SAML login (signed AuthnRequest with eIDAS extensions, signed and encrypted assertion) without any
// other program. Its key lives in files under var/dev/saml so the gateway's config can name its
// certificate: call ensureDemoSamlMaterial() before the config is loaded. Development only.
import { join } from 'node:path';
import type { Router } from 'express';
import { ATTRIBUTE_PRESETS, type AttributeMapping, type AttributePreset } from '../attributes.ts';
import { loadOrCreateKeyPair, type KeyPair } from '../keys.ts';
import type { DemoPeer } from '../../../src/registry/factory.ts';
import type { SamlProviderConfig } from '../config.ts';
import { spEndpoints, spKeyPairs } from '../sp.ts';
import { createTestIdp } from './index.ts';

export const DEMO_SAML_DIR = 'var/dev/saml';
/** where the gateway mounts the IdP: its SSO URL is `<issuer>/demo/saml-idp/sso` */
export const DEMO_SAML_PATH = '/demo/saml-idp';

/** The IdP's key pair: <dir>/idp.key.pem and <dir>/idp.cert.pem (`idp.certificates` in the config). */
export function ensureDemoSamlMaterial(dir = DEMO_SAML_DIR): Promise<KeyPair> {
  return loadOrCreateKeyPair({
    keyDir: dir,
    name: 'idp',
    production: false,
    commonName: 'Demo SAML IdP (development)',
  });
}

export const demoIdpCertificateFile = (dir = DEMO_SAML_DIR) => join(dir, 'idp.cert.pem');

function presetOf(mapping: AttributeMapping): AttributePreset {
  const found = (Object.keys(ATTRIBUTE_PRESETS) as AttributePreset[]).find(
    (p) => ATTRIBUTE_PRESETS[p].personal_code.name === mapping.personal_code.name,
  );
  return found ?? 'eidas';
}

/**
 * The router for a SAML provider whose IdP is the demo peer. It trusts that provider's SP keys (the
 * adapter's own, configured or generated in the key directory) and answers in its attribute profile.
 */
export async function demoSamlIdpRouter(o: {
  issuer: string;
  provider: SamlProviderConfig;
  keyDir: string;
  dir?: string;
}): Promise<{ path: string; router: Router }> {
  const base = `${o.issuer.replace(/\/+$/, '')}${DEMO_SAML_PATH}`;
  const key = await ensureDemoSamlMaterial(o.dir);
  const sp = await spKeyPairs(o.provider, { keyDir: o.keyDir, production: false });
  const { entityId, acsUrl } = spEndpoints(o.provider, o.issuer);
  const idp = await createTestIdp({
    baseUrl: base,
    key,
    sp: { entityId, signingCert: sp.signing.cert, encryptionCert: sp.encryption.cert, acsUrl },
    encryptAssertions: o.provider.require_encrypted_assertion,
    profile: presetOf(o.provider.attributes),
    loa: o.provider.loa,
  });
  return { path: DEMO_SAML_PATH, router: idp.router };
}

/** The demo's SAML peer: it trusts exactly one SP, the first entry whose SSO URL is the in-process IdP. */
export const samlDemoPeer: DemoPeer<SamlProviderConfig> = {
  prepareMaterial: async () => {
    await ensureDemoSamlMaterial();
  },
  async mount(entries, { issuer, keyDir }) {
    const provider = entries.find((p) => p.idp?.sso_url === `${issuer}${DEMO_SAML_PATH}/sso`);
    return provider ? [await demoSamlIdpRouter({ issuer, provider, keyDir })] : [];
  },
};
