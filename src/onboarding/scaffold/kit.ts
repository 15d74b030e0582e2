// The entry kit `providers scaffold --kind oidc|saml|banklink NAME` writes for a new provider of a kind
// the gateway has: its `providers[]` entry (every required field, commented), its joining record at
// stage `application` (VPM joining conditions: the process starts with the application), and a test
// running the kind's adapter conformance suite against the kind's test peer set up like the entry.
import { stringify } from 'yaml';
import { type RegistryRecord, registryRecordSchema } from '../record.ts';

export const KIT_KINDS = ['oidc', 'saml', 'banklink'] as const;
export type KitKind = (typeof KIT_KINDS)[number];

const COMMON = (name: string, kind: KitKind) => `  - id: ${name}
    type: ${kind}
    # shown on the selection page, in every language the pages offer
    name: { lv: ${name}, en: ${name}, ru: ${name} }
    # bank (credit institution) or eid (other eID provider); the page groups by it
    kind: ${kind === 'banklink' ? 'bank' : 'eid'}
    # the highest level of assurance its logins may carry: low, substantial or high
    loa: high
`;

const ENTRY: Record<KitKind, string> = {
  oidc: `    # its issuer identifier: discovery runs against it and every ID token's iss must equal it
    issuer: https://op.${'NAME'}.example.lv
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
    # a back channel: mutual TLS in production (the provider's CA, the gateway's client certificate)
    tls:
      ca: certs/${'NAME'}/ca.pem
      cert: certs/${'NAME'}/client.pem
      key: certs/${'NAME'}/client.key
`,
  saml: `    # IdP metadata over the back channel (signed); or idp_metadata (a file) or idp: {entity_id, sso_url, certificates}
    metadata_url: https://idp.${'NAME'}.example.lv/metadata
    # the certificates the metadata must be signed with (PEM files)
    metadata_signing_certificates: [certs/${'NAME'}/metadata-signing.pem]
    # how the AuthnRequest travels: redirect (HTTP-Redirect) or post (HTTP-POST)
    binding: redirect
    # the attribute names the IdP releases: a preset (eidas, oid, identity-claims) or an explicit mapping
    attributes: eidas
    # refuse plain assertions (eIDAS nodes always encrypt)
    require_encrypted_assertion: true
    # mutual TLS for the metadata fetch in production
    tls:
      ca: certs/${'NAME'}/ca.pem
      cert: certs/${'NAME'}/client.pem
      key: certs/${'NAME'}/client.key
`,
  banklink: `    # the bank's banklink address: requests and answers travel as browser form posts
    url: https://ib.${'NAME'}.example.lv/banklink
    # VK_SND_ID the bank assigned to the gateway, and the bank's own VK_SND_ID
    sender_id: CHANGE-ME
    receiver_id: CHANGE-ME
    # 009 (SHA-512); 008 is SHA-1 and needs legacy: true
    version: "009"
    # 4012 (answer 3013) or 4011 (answer 3012)
    service: "4012"
    # the gateway's signing key for this bank (RSA 2048+) and the bank's certificate
    private_key: keys/${'NAME'}/gateway.key
    bank_certificate: keys/${'NAME'}/bank.pem
`,
};

export function kitEntry(name: string, kind: KitKind): string {
  return `# ${name}: a new ${kind} provider. Add under providers: in the gateway's configuration; no
# onboarding block (its joining record, registry/${name}.yaml, governs it).
providers:
${COMMON(name, kind)}${ENTRY[kind].replaceAll('NAME', name)}`;
}

export function kitRecord(name: string, kind: KitKind, by: string, now = new Date()): RegistryRecord {
  const bank = kind === 'banklink';
  return registryRecordSchema.parse({
    id: name,
    adapter: name,
    name,
    legal_kind: bank ? 'credit_institution' : 'eid_provider',
    licence: {
      register: bank ? 'credit_institutions' : 'eid_providers',
      entry: 'CHANGE-ME',
      ...(bank ? {} : { qualified: false }),
      checked_at: now.toISOString().slice(0, 10),
      checked_by: by,
    },
    free_of_charge: { declared: false },
    two_factor: false,
    contacts: [{ name: 'CHANGE-ME', role: 'technical', email: `it@${name}.example.lv` }],
    revision: 1,
    history: [{ stage: 'application', at: now.toISOString(), by, reason: 'application received', evidence: [] }],
    decisions: [],
  });
}

const HARNESS: Record<KitKind, { peer: string; path: string; call: string }> = {
  oidc: { peer: 'test OP', path: 'providers/oidc/test-op/conformance.ts', call: 'oidcConformanceTarget' },
  saml: { peer: 'test IdP', path: 'providers/saml/test-idp/conformance.ts', call: 'samlConformanceTarget' },
  banklink: { peer: 'test bank', path: 'providers/banklink/test-harness.ts', call: 'createHarness' },
};

/** banklink: only its protocol settings reach the test bank (which plays both the bank and its keys). */
const BANKLINK_SETUP = `const { version, service, hash, legacy, encoding, length_mode, name_format } = entry;
const settings = { version, service, hash, legacy, encoding, length_mode, name_format };
const protocol = Object.fromEntries(Object.entries(settings).filter(([, value]) => value !== undefined));

const bankOptions = name_format ? { nameFormat: name_format } : {};
`;

const SETTINGS: Record<KitKind, string> = {
  oidc: 'client authentication method, claim names, personal code format, acr mapping',
  saml: 'attribute profile, binding, signing and encryption',
  banklink: 'version, service, hash, encoding',
};

/** The kind's conformance suite against its test peer, configured with the kit's protocol settings. */
function kitTest(name: string, kind: KitKind, gateway: string): string {
  const at = (path: string) => `'${gateway}/${path}'`;
  const { peer, path, call } = HARNESS[kind];
  const run = kind === 'banklink' ? `${call}(protocol, bankOptions)` : `${call}(entry)`;
  return `// ${name}: the ${kind} conformance suite against the ${peer}, with this provider's protocol settings
// (${SETTINGS[kind]}) read from ${name}.provider.yaml.
import { readFileSync } from 'node:fs';
import { parse } from ${at('node_modules/yaml/dist/index.js')};
import { ${call} } from ${at(path)};
import { adapterConformance } from ${at('test/support/adapter-conformance.ts')};

const text = readFileSync(new URL('./${name}.provider.yaml', import.meta.url), 'utf8');
const [entry] = parse(text).providers;
${kind === 'banklink' ? BANKLINK_SETUP : ''}
adapterConformance('${name} (${kind})', () => ${run});

// the suite runs the protocol with the test peer's own identifiers: what only the provider can give is
// listed as still to do until it replaces every CHANGE-ME
for (const [i, line] of text.split('\\n').entries())
  if (line.includes('CHANGE-ME')) test.todo(\`${name}.provider.yaml line \${i + 1}: \${line.trim()}\`);
`;
}

export function kitFiles(name: string, kind: KitKind, by: string, gateway: string): Record<string, string> {
  return {
    [`${name}.provider.yaml`]: kitEntry(name, kind),
    [`registry/${name}.yaml`]: stringify(kitRecord(name, kind, by)),
    [`${name}.test.ts`]: kitTest(name, kind, gateway),
  };
}
