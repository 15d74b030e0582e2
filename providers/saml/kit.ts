// The entry kit of a new SAML IdP (`providers scaffold --kind saml NAME`): its entry's fields, and its
// conformance test against the test IdP configured like the entry.
import type { EntryKit } from '../../src/broker/adapter.ts';

export const kit: EntryKit = {
  group: 'eid',
  entry: `    # IdP metadata over the back channel (signed); or idp_metadata (a file) or idp: {entity_id, sso_url, certificates}
    metadata_url: https://idp.NAME.example.lv/metadata
    # the certificates the metadata must be signed with (PEM files)
    metadata_signing_certificates: [certs/NAME/metadata-signing.pem]
    # how the AuthnRequest travels: redirect (HTTP-Redirect) or post (HTTP-POST)
    binding: redirect
    # the attribute names the IdP releases: a preset (eidas, oid, identity-claims) or an explicit mapping
    attributes: eidas
    # refuse plain assertions (eIDAS nodes always encrypt)
    require_encrypted_assertion: true
`,
  tls: 'mutual TLS for the metadata fetch in production',
  settings: 'attribute profile, binding, signing and encryption',
  peer: { name: 'test IdP', module: 'providers/saml/test-idp/conformance.ts', call: 'samlConformanceTarget' },
};
