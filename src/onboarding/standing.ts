// Where each configured provider stands in the joining process, and who it is offered to because of it:
// a provider in production to every service; one in testing to the services marked `test: true` only
// (production mode too, so the agency can test a bank end to end on the real gateway); any other stage
// (suspended and refused included) to nobody. Without a registry, each entry's inline `onboarding` block
// is its standing, and outside production mode its testing stage is offered to every service, so a
// development configuration tries a provider out without marking a service `test: true`.
import type { GatewayConfig } from '../config/load.ts';
import type { ProviderBaseConfig } from '../config/provider-base.ts';
import { eligibility } from '../registry/onboarding.ts';
import { currentStage, type RecordStage, type RegistryRecord, stageBeforeSuspension } from './record.ts';
import { recordPath } from './files.ts';
import { unmetTerms } from './terms.ts';

export type Audience = 'all' | 'test' | 'none';

export interface Standing {
  /** the `providers[]` entry */
  provider: string;
  /** the registry record governing it, when there is a registry */
  record?: string | undefined;
  stage: RecordStage;
  revision: number;
  /** why it is not offered although its stage would allow it (terms no longer met) */
  unmet: string[];
  audience: Audience;
  /** suspended from testing or production: its adapter is kept ready for the resumption */
  dormant: boolean;
}

function stageAudience(stage: RecordStage, unmet: string[]): Audience {
  if (unmet.length) return 'none';
  return stage === 'production' ? 'all' : stage === 'testing' ? 'test' : 'none';
}

export function recordStanding(record: RegistryRecord, provider: string, today = new Date()): Standing {
  const stage = currentStage(record);
  const unmet = stage === 'production' || stage === 'testing' ? unmetTerms(record, today) : [];
  const before = stage === 'suspended' ? stageBeforeSuspension(record) : undefined;
  return {
    provider,
    record: record.id,
    stage,
    revision: record.revision,
    unmet,
    audience: stageAudience(stage, unmet),
    dormant: before === 'testing' || before === 'production',
  };
}

export function inlineStanding(entry: ProviderBaseConfig, production: boolean, today = new Date()): Standing {
  const stage = entry.onboarding?.stage ?? 'application';
  const { reasons } = eligibility(entry, false, today);
  const audience = stageAudience(stage, reasons);
  return {
    provider: entry.id,
    stage,
    revision: 0,
    unmet: reasons,
    audience: audience === 'test' && !production ? 'all' : audience,
    dormant: false,
  };
}

/** With a registry, an entry no record names (its record removed while running): offered to nobody. */
export function unrecordedStanding(provider: string): Standing {
  const unmet = ['no record names it as its adapter'];
  return { provider, stage: 'application', revision: 0, unmet, audience: 'none', dormant: false };
}

/** The record naming each configured entry as its adapter; one named by two records is governed by
 * neither (the registry checks refuse that, and a provider whose record is in doubt is offered to nobody). */
export function recordsByAdapter(records: ReadonlyMap<string, RegistryRecord>): Map<string, RegistryRecord> {
  const out = new Map<string, RegistryRecord>();
  const twice = new Set<string>();
  for (const record of records.values()) {
    if (!record.adapter) continue;
    if (out.has(record.adapter)) twice.add(record.adapter);
    out.set(record.adapter, record);
  }
  for (const adapter of twice) out.delete(adapter);
  return out;
}

/** The records' own disagreements with the configuration: an adapter governed by two records, a live
 * record naming no configured entry. Checked at start and on every change of a running registry. */
export function registryConflicts(
  config: GatewayConfig,
  records: ReadonlyMap<string, RegistryRecord>,
  dir: string,
): string[] {
  const problems: string[] = [];
  const kinds = new Map(config.providers.map(({ config: entry }) => [entry.id, entry.kind]));
  const claimed = new Map<string, string>();
  for (const record of records.values()) {
    const path = recordPath(dir, record.id);
    if (!record.adapter) continue;
    const other = claimed.get(record.adapter);
    if (other) problems.push(`${path}: adapter: ${record.adapter} is already governed by ${recordPath(dir, other)}`);
    claimed.set(record.adapter, record.id);
    const stage = currentStage(record);
    const live = stage === 'testing' || stage === 'production' || recordStanding(record, record.adapter).dormant;
    const kind = kinds.get(record.adapter);
    if (live && !kind)
      problems.push(`${path}: adapter: no providers[] entry ${JSON.stringify(record.adapter)} is configured`);
    // the selection page groups by kind: a bank there must be the credit institution the record checked
    if (kind && (kind === 'bank') !== (record.legal_kind === 'credit_institution'))
      problems.push(
        `${path}: legal_kind: ${record.legal_kind}, but providers[] entry ${JSON.stringify(record.adapter)} is of kind ${kind} (kind bank needs a credit_institution, kind eid an eid_provider)`,
      );
  }
  return problems;
}

/** The registry checked against the configuration: one source of truth per provider, named problems. */
export function reconcile(config: GatewayConfig, records: ReadonlyMap<string, RegistryRecord>, dir: string): string[] {
  const problems = registryConflicts(config, records, dir);
  const claimed = new Set([...records.values()].map((record) => record.adapter));
  config.providers.forEach(({ config: entry }, i) => {
    if (entry.onboarding)
      problems.push(
        `providers[${i}].onboarding: with a registry the provider's record decides; remove this block (one source of truth)`,
      );
    if (!claimed.has(entry.id))
      problems.push(`providers[${i}]: no record in ${dir} names ${JSON.stringify(entry.id)} as its adapter`);
  });
  return problems;
}
