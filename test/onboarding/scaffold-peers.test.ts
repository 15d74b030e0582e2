// The conformance targets a scaffolded oidc or saml provider's test runs against, fed entries that differ
// from the kit's in every protocol setting they claim to follow: the test peer must answer in each
// entry's dialect (claim names, personal code format, acr or amr mapping, client authentication,
// userinfo; binding, plain or encrypted assertions, the three ways to learn the IdP) or the suite fails.
// What the peers cannot speak is refused at setup, naming the setting.
import { parse } from 'yaml';
import { oidcConformanceTarget } from '../../providers/oidc/test-op/conformance.ts';
import { samlConformanceTarget } from '../../providers/saml/test-idp/conformance.ts';
import { kitEntry } from '../../src/onboarding/scaffold/kit.ts';
import { adapterConformance } from '../support/adapter-conformance.ts';

const entryOf = (kind: 'oidc' | 'saml', changes: Record<string, unknown>) => ({
  ...parse(kitEntry(`peer-${kind}`, kind)).providers[0],
  ...changes,
});

adapterConformance('oidc target: client_secret_basic, userinfo, a semantics identifier pattern, amr only', () =>
  oidcConformanceTarget(
    entryOf('oidc', {
      client_auth: { method: 'client_secret_basic' },
      claims: {
        source: 'userinfo',
        given_name: 'first_name',
        family_name: 'last_name',
        personal_code: { claim: 'pid', pattern: 'PNO{country}-{code}' },
      },
      assurance: { acr: {}, amr: { smart_card: 'high' }, request_acr_values: false },
    }),
  ),
);

adapterConformance('oidc target: tls_client_auth, an Estonian personal code under a fixed country', () =>
  oidcConformanceTarget(
    entryOf('oidc', {
      client_auth: { method: 'tls_client_auth' },
      loa: 'substantial',
      claims: { source: 'id_token', personal_code: { claim: 'national_id', country: 'EE' } },
      assurance: { acr: { 'urn:ee:low': 'low', 'urn:ee:substantial': 'substantial' } },
    }),
  ),
);

adapterConformance('saml target: HTTP-POST, plain assertions, the IdP configured directly', () =>
  samlConformanceTarget(
    entryOf('saml', {
      metadata_url: undefined,
      metadata_signing_certificates: undefined,
      idp: { entity_id: 'https://idp.peer-saml.example.lv/metadata' },
      binding: 'post',
      require_encrypted_assertion: false,
      attributes: 'oid',
    }),
  ),
);

adapterConformance('saml target: metadata from a file, encrypted assertions, level substantial', () =>
  samlConformanceTarget(
    entryOf('saml', {
      metadata_url: undefined,
      idp_metadata: 'idp/metadata.xml',
      loa: 'substantial',
    }),
  ),
);

test('an oidc entry that maps nothing to its own level has no login to offer, and says so', async () => {
  const entry = entryOf('oidc', { assurance: { acr: { 'urn:x:low': 'low' } } });
  await expect(oidcConformanceTarget(entry)).rejects.toThrow('the entry maps no acr or amr value to its level high');
});

test('a saml entry with an explicit attribute mapping is refused: the test IdP releases presets only', async () => {
  const entry = entryOf('saml', { attributes: { given_name: 'urn:x:first' } });
  await expect(samlConformanceTarget(entry)).rejects.toThrow(/attribute presets only/);
});
