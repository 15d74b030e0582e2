// What a start records in the audit log before it serves: the configuration it runs (by digest) with the
// providers it opened, and each provider's standing in the joining process (src/onboarding), offered or not
// and why, so that an operator can tell from the log alone what the citizens were offered from then on.
import type { AuditLog } from '../audit/events.ts';
import type { GatewayConfig } from '../config/load.ts';
import type { Standing } from './standing.ts';

export async function recordStart(
  audit: AuditLog,
  config: GatewayConfig,
  opened: string[],
  standings: readonly Standing[],
): Promise<void> {
  await audit.record({
    type: 'config_loaded',
    detail: {
      digest: config.digest,
      path: config.path,
      providers: opened,
      clients: config.clients.map((c) => c.client_id),
      production: config.production,
    },
  });
  const entries = new Map(config.providers.map((p) => [p.config.id, p.config]));
  for (const { provider, record, stage, revision, audience, unmet } of standings) {
    const { type, kind, loa } = entries.get(provider)!;
    const offered = audience !== 'none';
    const reasons = unmet.map((reason) => `${record ? `${record}.yaml` : `providers[${provider}]`}: ${reason}`);
    const detail = { provider, record: record ?? null, revision, type, kind, stage, loa, offered, audience, reasons };
    await audit.record({ type: 'registry_change', providerId: provider, detail });
  }
}
