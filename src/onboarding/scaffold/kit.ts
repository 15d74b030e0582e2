// The entry kit `providers scaffold --kind KIND NAME` writes for a new provider of a kind the gateway has
// whose factory offers one (its `kit`): its `providers[]` entry (every required field, commented), its joining record at
// stage `application` (VPM joining conditions: the process starts with the application), and a test
// running the kind's adapter conformance suite against the kind's test peer set up like the entry.
import { stringify } from 'yaml';
import type { EntryKit } from '../../registry/factory.ts';
import { ADAPTER_FACTORIES } from '../../registry/adapters.ts';
import { legalStanding, type RegistryRecord, registryRecordSchema } from '../record.ts';

/** The kinds whose factory offers an entry kit (its `kit`, providers/<kind>/kit.ts). */
export function kitKinds(): string[] {
  return [...ADAPTER_FACTORIES.values()].filter((f) => f.kit).map((f) => f.kind);
}

function kitOf(kind: string): EntryKit {
  const kit = ADAPTER_FACTORIES.get(kind)?.kit;
  if (!kit) throw new Error(`adapter kind ${kind} offers no entry kit`);
  return kit;
}

const COMMON = (name: string, kind: string, kit: EntryKit) => `  - id: ${name}
    type: ${kind}
    # shown on the selection page, in every language the pages offer
    name: { lv: ${name}, en: ${name}, ru: ${name} }
    # bank (credit institution) or eid (other eID provider); the page groups by it
    kind: ${kit.group}
    # the highest level of assurance its logins may carry: low, substantial or high
    loa: high
`;

/** The entry's mutual TLS files, for a kind with a back channel (production requires them). */
const TLS = (name: string, why: string) => `    # ${why}
    tls:
      ca: certs/${name}/ca.pem
      cert: certs/${name}/client.pem
      key: certs/${name}/client.key
`;

export function kitEntry(name: string, kind: string): string {
  const kit = kitOf(kind);
  return `# ${name}: a new ${kind} provider. Add under providers: in the gateway's configuration; no
# onboarding block (its joining record, registry/${name}.yaml, governs it).
providers:
${COMMON(name, kind, kit)}${kit.entry.replaceAll('NAME', name)}${kit.tls ? TLS(name, kit.tls) : ''}`;
}

export function kitRecord(name: string, kind: string, by: string, now = new Date()): RegistryRecord {
  const bank = kitOf(kind).group === 'bank';
  return registryRecordSchema.parse({
    id: name,
    adapter: name,
    name,
    ...legalStanding(bank, {
      entry: 'CHANGE-ME',
      qualified: false,
      checked_at: now.toISOString().slice(0, 10),
      checked_by: by,
    }),
    free_of_charge: { declared: false },
    two_factor: false,
    contacts: [{ name: 'CHANGE-ME', role: 'technical', email: `it@${name}.example.lv` }],
    revision: 1,
    history: [{ stage: 'application', at: now.toISOString(), by, reason: 'application received', evidence: [] }],
    decisions: [],
  });
}

/** The kind's conformance suite against its test peer, configured with the kit's protocol settings. */
function kitTest(name: string, kind: string, gateway: string): string {
  const at = (path: string) => `'${gateway}/${path}'`;
  const { peer, settings, setup, args } = kitOf(kind);
  const run = `${peer.call}(${args ?? 'entry'})`;
  return `// ${name}: the ${kind} conformance suite against the ${peer.name}, with this provider's protocol settings
// (${settings}) read from ${name}.provider.yaml.
import { readFileSync } from 'node:fs';
import { parse } from ${at('node_modules/yaml/dist/index.js')};
import { ${peer.call} } from ${at(peer.module)};
import { adapterConformance } from ${at('test/support/adapter-conformance.ts')};

const text = readFileSync(new URL('./${name}.provider.yaml', import.meta.url), 'utf8');
const [entry] = parse(text).providers;
${setup?.replaceAll('NAME', name) ?? ''}
adapterConformance('${name} (${kind})', () => ${run});

// the suite runs the protocol with the test peer's own identifiers: what only the provider can give is
// listed as still to do until it replaces every CHANGE-ME
for (const [i, line] of text.split('\\n').entries())
  if (line.includes('CHANGE-ME')) test.todo(\`${name}.provider.yaml line \${i + 1}: \${line.trim()}\`);
`;
}

export function kitFiles(name: string, kind: string, by: string, gateway: string): Record<string, string> {
  return {
    [`${name}.provider.yaml`]: kitEntry(name, kind),
    [`registry/${name}.yaml`]: stringify(kitRecord(name, kind, by)),
    [`${name}.test.ts`]: kitTest(name, kind, gateway),
  };
}
