// Registry records and gateway settings the joining tests share: records written as files the way an
// operator keeps them, and provider entries without an inline `onboarding` block (the record decides).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { RecordStage, RegistryRecord } from '../../src/onboarding/record.ts';
import { MOCK_BANK, MOCK_PROVIDER } from '../support/provider-entries.ts';

const STAGES = ['application', 'review', 'agreement_drafting', 'signing', 'development', 'testing', 'production'];

/** A record that went through the process up to `stage` (then `extra` on top). */
export function record(id: string, stage: RecordStage, extra: Partial<RegistryRecord> = {}): RegistryRecord {
  const upTo = STAGES.includes(stage) ? STAGES.slice(0, STAGES.indexOf(stage) + 1) : [...STAGES.slice(0, 3), stage];
  const history = upTo.map((s, i) => ({
    stage: s as RecordStage,
    at: new Date(Date.UTC(2026, 0, 5 + i)).toISOString(),
    by: 'Agency reviewer',
    reason: `moved to ${s}`,
    evidence: [],
    ...(s === 'refused' ? { refusal_reasons: ['not_licensed' as const] } : {}),
  }));
  const bank = id.includes('bank');
  // a provider reaches testing only with a passing probe, production only after a test login
  const reached = (s: string) => history.some((h) => h.stage === s);
  const at = history.at(-1)!.at;
  return {
    id,
    adapter: id,
    name: `Provider ${id}`,
    legal_kind: bank ? 'credit_institution' : 'eid_provider',
    licence: {
      register: bank ? 'credit_institutions' : 'eid_providers',
      entry: 'REG-1',
      ...(bank ? {} : { qualified: true }),
      valid_until: '2099-12-31',
      checked_at: '2026-01-05',
      checked_by: 'Agency lawyer',
    },
    free_of_charge: { declared: true },
    two_factor: true,
    contacts: [{ name: 'Contact', role: 'technical', email: 'it@provider.example.lv' }],
    revision: history.length,
    history,
    decisions: [],
    ...(reached('testing') ? { probe: { at, ok: true, report: {} } } : {}),
    ...(reached('production') ? { test_login: { at, ok: true, report: {} } } : {}),
    ...extra,
  };
}

export function writeRegistry(dir: string, records: RegistryRecord[]): string {
  mkdirSync(dir, { recursive: true });
  for (const r of records) writeFileSync(join(dir, `${r.id}.yaml`), stringify(r));
  return dir;
}

const { onboarding: _eid, ...eid } = MOCK_PROVIDER;
const { onboarding: _bank, ...bank } = MOCK_BANK;
/** The mock eID and mock bank entries as a registry governs them (no inline onboarding block). */
export const REGISTRY_PROVIDERS = [eid, bank];

/** A test service (`test: true`), beside the default `rp`. */
export const TEST_CLIENT = {
  client_id: 'tester',
  client_name: 'Test service',
  client_secret: 'tester-secret-0123456789-0123456789-abc',
  redirect_uris: ['https://rp.example.test/cb'],
  test: true,
};
