// What the audit directory alone cannot show, checked by `audit verify` and `audit witness`: a rollback
// to an earlier checkpoint (against the witnesses), a forged uncheckpointed tail (entry MACs) and a time
// ahead of the clock.
import { type AuditConfig, existingEntryMacKey, witnessesFor } from '../../audit/config.ts';
import { EntryMac } from '../../audit/entry-mac.ts';
import type { ScanResult } from '../../audit/scan.ts';
import { checkWitnesses, FileWitness, futureTimeProblem, type Witness } from '../../audit/witness.ts';
import { RedisStore } from '../../store/redis.ts';
import type { StoreConfig } from './context.ts';

export interface WitnessSources {
  /** the `audit:` block of --config */
  config?: AuditConfig;
  /** the `store:` block of --config, for the Redis witness */
  storeConfig?: StoreConfig;
  /** --witness FILE */
  witnessFile?: string | undefined;
}

/** The configured witnesses (the Redis one through a connection of its own), and how to let go of them. */
export function configuredWitnesses(
  config: AuditConfig,
  storeConfig: StoreConfig | undefined,
  kid: string,
): { witnesses: Witness[]; close(): Promise<void> } {
  const store = storeConfig?.type === 'redis' ? new RedisStore(storeConfig) : undefined;
  return { witnesses: witnessesFor(config, kid, store), close: async () => store?.close() };
}

/** Problems of the log against the witnesses and the clock: with --config, and a --witness file. */
export async function witnessChecks(sources: WitnessSources, scan: ScanResult): Promise<string[]> {
  const problems: string[] = [];
  // without a checkpoint key nothing can be checked against a witness; a log whose checkpoints and key copy
  // were deleted with it would otherwise pass a monitor's `--witness` run as agreeing
  if (!scan.key) {
    if (sources.witnessFile)
      problems.push(
        `witness file ${sources.witnessFile} cannot be checked: the log has no checkpoint key (its checkpoints and key copy deleted?); give the pinned key with --public-key`,
      );
    return problems;
  }
  if (sources.witnessFile)
    problems.push(...(await checkWitnesses([new FileWitness(sources.witnessFile)], scan, scan.key)));
  if (sources.config) {
    const { witnesses, close } = configuredWitnesses(sources.config, sources.storeConfig, scan.key.kid);
    try {
      problems.push(...(await checkWitnesses(witnesses, scan, scan.key)));
    } finally {
      await close();
    }
    const future = futureTimeProblem(
      [scan.lastTime, scan.checkpoints.at(-1)?.checkpoint.time],
      sources.config.max_clock_skew_ms,
    );
    if (future) problems.push(future);
  }
  return problems;
}

/** With --config: the entry MAC key, so entries no checkpoint covers yet are authenticated too (read, never
 * generated: a missing key stops the command, naming it). */
export function entryMac(sources: WitnessSources): EntryMac | undefined {
  return sources.config ? new EntryMac(existingEntryMacKey(sources.config)) : undefined;
}
