// What a test peer run on its own (`npm run test-eid`, `test-bank`, `test-smartid`) prints for a
// configuration to offer it, each part ready to paste as it is: the provider entry, indented as an item of
// config/demo.yaml's `providers:` list (the file's last setting, so the entry goes at its end); its joining
// record (./record.ts), a whole file for the registry's directory; and, for a configuration without a
// registry, the inline `onboarding` block, indented as a key of that entry. The headings are YAML comments:
// one pasted along changes nothing.
import { stringify } from 'yaml';
import { ONBOARDING_STAGES } from '../config/provider-base.ts';
import { legalStanding, registryRecordSchema } from './record.ts';

export interface TestPeer {
  /** the provider id, shared by the entry and its record */
  id: string;
  /** the record's name */
  name: string;
  kind: 'bank' | 'eid';
  /** the npm script that runs the peer: it stands as the one who checked and moved the record */
  script: string;
}

/** A peer's joining record at stage `testing`: offered to `test: true` services (the demo's is one). */
export function testPeerRecord({ id, name, kind, script }: TestPeer): Record<string, unknown> {
  const bank = kind === 'bank';
  const by = `npm run ${script}`;
  const at = (day: number) => `2026-01-${String(day).padStart(2, '0')}T09:00:00Z`;
  const stages = ONBOARDING_STAGES.slice(0, ONBOARDING_STAGES.indexOf('testing') + 1);
  const record = {
    id,
    adapter: id,
    name,
    ...legalStanding(bank, {
      entry: 'TEST-1',
      qualified: true,
      valid_until: '2099-12-31',
      checked_at: '2026-01-02',
      checked_by: by,
    }),
    free_of_charge: { declared: true },
    two_factor: true,
    contacts: [{ name: 'Test Contact', role: 'technical', email: 'test@example.lv' }],
    revision: stages.length,
    history: stages.map((stage, i) => ({ stage, at: at(i + 1), by, reason: 'development test peer', evidence: [] })),
    decisions: [],
    // testing needs a passing security probe recorded; this throwaway development peer stands in for one,
    // as the demo's records do for their in-process peers
    probe: { at: at(stages.length), ok: true, report: { note: `throwaway development peer (${by})` } },
  };
  registryRecordSchema.parse(record);
  return record;
}

/** The inline `onboarding` block of the same standing, for a configuration without a registry. */
export function testPeerOnboarding(kind: TestPeer['kind']): Record<string, unknown> {
  return {
    stage: 'testing',
    ...(kind === 'bank'
      ? { licence: { number: 'TEST-1', valid_until: '2099-12-31' } }
      : { eid_register: { entry: 'TEST-1', qualified: true } }),
    free_of_charge: true,
    two_factor: true,
  };
}

const indented = (yaml: string, spaces: number) =>
  yaml
    .split('\n')
    .map((line) => (line ? `${' '.repeat(spaces)}${line}` : line))
    .join('\n');

/** The parts to paste, under their headings, after one line saying what runs where. */
export function testPeerOutput(title: string, peer: TestPeer, entry: Record<string, unknown>): string {
  return [
    `# ${title}`,
    '# 1. The provider entry: paste it at the end of config/demo.yaml (the last item of providers:)',
    indented(stringify([entry]), 2),
    `# 2. With a registry (config/demo.yaml has one): save this joining record as config/registry/${peer.id}.yaml`,
    stringify(testPeerRecord(peer)),
    "# 2'. Without a registry: paste this into the entry instead, after its last line",
    indented(stringify({ onboarding: testPeerOnboarding(peer.kind) }), 4),
    '# Runs until Ctrl-C.\n',
  ].join('\n');
}
