// The entry kit of a new upstream OpenID provider (`providers scaffold --kind oidc NAME`): its entry's
// fields, and its conformance test against the test OP configured like the entry.
import type { EntryKit } from '../../src/broker/adapter.ts';

export const kit: EntryKit = {
  group: 'eid',
  entry: `    # its issuer identifier: discovery runs against it and every ID token's iss must equal it
    issuer: https://op.NAME.example.lv
    client_id: CHANGE-ME
    client_auth:
      # private_key_jwt (a key of the gateway's), tls_client_auth or client_secret_basic
      method: private_key_jwt
    # where the person's separate given name, surname and personal code come from
    claims:
      source: id_token
      given_name: given_name
      family_name: family_name
      personal_code: { claim: CHANGE-ME, country: LV }
    # its acr (or amr) values and the level of assurance each one means; any other is refused
    assurance:
      acr: { CHANGE-ME: high }
`,
  tls: "a back channel: mutual TLS in production (the provider's CA, the gateway's client certificate)",
  settings: 'client authentication method, claim names, personal code format, acr mapping',
  peer: { name: 'test OP', module: 'providers/oidc/test-op/conformance.ts', call: 'oidcConformanceTarget' },
};
