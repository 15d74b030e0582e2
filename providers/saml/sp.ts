// The gateway as a SAML service provider: its entity ID, assertion consumer service URL and key pairs.
import type { SamlProviderConfig } from './config.ts';
import { loadOrCreateKeyPair, type KeyPair } from './keys.ts';

/** The SP's entity ID and ACS URL for a provider entry (defaults derive from the gateway's base URL). */
export function spEndpoints(
  config: Pick<SamlProviderConfig, 'id' | 'sp'>,
  baseUrl: string,
): { entityId: string; acsUrl: string } {
  const base = baseUrl.replace(/\/+$/, '');
  return {
    entityId: config.sp.entity_id ?? `${base}/providers/${config.id}/metadata`,
    acsUrl: config.sp.acs_url ?? `${base}/broker/callback/${config.id}`,
  };
}

/** The SP's signing and encryption key pairs: configured, or (outside production) generated in keyDir. */
export async function spKeyPairs(
  config: Pick<SamlProviderConfig, 'id' | 'sp'>,
  o: { keyDir: string; production: boolean },
): Promise<{ signing: KeyPair; encryption: KeyPair }> {
  const common = { keyDir: o.keyDir, production: o.production };
  const signing = await loadOrCreateKeyPair({
    ...common,
    configured: config.sp.signing,
    name: `saml-${config.id}-signing`,
    commonName: `${config.id} SAML SP signing`,
  });
  const encryption = await loadOrCreateKeyPair({
    ...common,
    configured: config.sp.encryption,
    name: `saml-${config.id}-encryption`,
    commonName: `${config.id} SAML SP encryption`,
  });
  return { signing, encryption };
}
