// `vpm-gateway audit witness` and the witness, MAC and clock checks of `audit verify`: what the audit
// directory alone cannot show (a rollback to an earlier checkpoint, a forged uncheckpointed tail).
import { entryMacKey, witnessesFor, type AuditConfig } from '../audit/config.ts';
import { EntryMac } from '../audit/entry-mac.ts';
import type { Checkpoint } from '../audit/format.ts';
import type { CheckpointVerifier } from '../audit/keys.ts';
import { describeProblem, scanLog, type ScanResult } from '../audit/scan.ts';
import { checkWitnesses, FileWitness, futureTimeProblem, witnessLine, type Witness } from '../audit/witness.ts';
import type { storeSchema } from '../config/schema.ts';
import { RedisStore } from '../store/redis.ts';
import type { Store } from '../store/store.ts';

export interface WitnessContext {
  config?: AuditConfig;
  /** the gateway's store block, for the Redis witness */
  storeConfig?: ReturnType<typeof storeSchema.parse>;
  /** --witness FILE */
  witnessFile?: string | undefined;
}

export interface Report {
  code: number;
  json: unknown;
  text: string;
}

const summary = (cp: Checkpoint) => `checkpoint ${cp.n} (size ${cp.size}, root ${cp.root.slice(0, 16)}…, ${cp.time})`;

/** The configured witnesses (the Redis one through a connection of its own), and how to let go of them. */
async function configuredWitnesses(
  ctx: WitnessContext,
  kid: string,
): Promise<{ witnesses: Witness[]; close(): Promise<void> }> {
  const sc = ctx.storeConfig;
  const store: Store | undefined =
    sc?.type === 'redis' ? new RedisStore({ url: sc.url, prefix: sc.prefix }) : undefined;
  return { witnesses: witnessesFor(ctx.config!, kid, store), close: async () => store?.close() };
}

/** Problems of the log against the witnesses and the clock: with --config, and a --witness file. */
export async function witnessChecks(ctx: WitnessContext, scan: ScanResult): Promise<string[]> {
  const checkpoints = scan.checkpoints.map((c) => c.checkpoint);
  const problems: string[] = [];
  if (!scan.key) return problems;
  if (ctx.witnessFile)
    problems.push(...(await checkWitnesses([new FileWitness(ctx.witnessFile)], checkpoints, scan.key)));
  if (ctx.config) {
    const { witnesses, close } = await configuredWitnesses(ctx, scan.key.kid);
    try {
      problems.push(...(await checkWitnesses(witnesses, checkpoints, scan.key)));
    } finally {
      await close();
    }
    const future = futureTimeProblem([scan.lastTime, checkpoints.at(-1)?.time], ctx.config.max_clock_skew_ms);
    if (future) problems.push(future);
  }
  return problems;
}

/** With --config: the entry MAC key, so entries no checkpoint covers yet are authenticated too. */
export function entryMac(ctx: WitnessContext): EntryMac | undefined {
  return ctx.config ? new EntryMac(entryMacKey(ctx.config)) : undefined;
}

/** `audit witness --config FILE [--reset]` (usage already checked by the caller). */
export async function witnessCommand(
  ctx: WitnessContext & { config: AuditConfig },
  pinned: CheckpointVerifier,
  reset: boolean,
): Promise<Report> {
  const scan = await scanLog(ctx.config.dir, { key: pinned, signatures: 'all', mac: entryMac(ctx) });
  const latest = scan.checkpoints.at(-1)?.checkpoint;
  const { witnesses, close } = await configuredWitnesses(ctx, pinned.kid);
  const names = witnesses.map((w) => w.name);
  try {
    const problems = await checkWitnesses(
      witnesses,
      scan.checkpoints.map((c) => c.checkpoint),
      pinned,
    );
    if (!reset) {
      const text = problems.length
        ? problems.map((p) => `DIFFERS: ${p}\n`).join('')
        : `OK: ${names.join(', ')} agree with the log\n`;
      return { code: problems.length ? 1 : 0, json: { ok: problems.length === 0, witnesses: names, problems }, text };
    }
    if (scan.problems.length) {
      return {
        code: 1,
        json: { ok: false, error: 'the log fails verification', problems: scan.problems },
        text: `REFUSED: the log fails verification (${describeProblem(scan.problems[0]!)}); a witness is only reset to a log that verifies\n`,
      };
    }
    if (!latest) {
      return {
        code: 1,
        json: { ok: false, error: 'no checkpoint yet' },
        text: 'REFUSED: the log has no checkpoint yet; the gateway writes the witness at its first checkpoint\n',
      };
    }
    for (const w of witnesses) await w.write(witnessLine(latest));
    return {
      code: 0,
      json: { ok: true, witnesses: names, checkpoint: latest, replaced: problems },
      text: `${problems.map((p) => `was: ${p}\n`).join('')}witnesses ${names.join(', ')} now hold ${summary(latest)}\n`,
    };
  } finally {
    await close();
  }
}
