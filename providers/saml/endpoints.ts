// Where the gateway or the browser reaches a SAML IdP, for the security probe: its SSO location (configured,
// or read from the metadata file) and the metadata URL. Attribute names, entity IDs and eIDAS extensions are
// URIs that name things, not addresses. The SSO locations of metadata at `metadata_url` the probe reads from
// the document it fetches (src/onboarding/probe/published.ts).
import { readFileSync } from 'node:fs';
import type { SamlProviderConfig } from './config.ts';
import { parseIdpMetadata } from './idp-metadata.ts';

/** The SSO locations a metadata file describes; none when it cannot be read or verified (check says why). */
function metadataFileLocations(config: SamlProviderConfig): string[] {
  if (!config.idp_metadata) return [];
  try {
    const described = parseIdpMetadata(readFileSync(config.idp_metadata, 'utf8'), {
      entityId: config.idp?.entity_id,
      signingCertificates: config.metadata_signing_certificates?.map((file) => readFileSync(file, 'utf8')),
      requireValidUntil: false,
      now: Date.now(),
      maxBytes: config.max_metadata_bytes,
    });
    return Object.values(described.ssoUrls).filter((url): url is string => typeof url === 'string');
  } catch {
    return [];
  }
}

export function samlEndpoints(config: SamlProviderConfig): string[] {
  return [config.idp?.sso_url, config.metadata_url, ...metadataFileLocations(config)].filter(
    (url): url is string => typeof url === 'string',
  );
}
