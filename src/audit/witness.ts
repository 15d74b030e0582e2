// Witnesses of the latest signed checkpoint, kept where someone who can rewrite the audit directory
// cannot: a file outside it and, when the gateway runs on Redis, the store. Start-up and
// `audit verify --config` refuse a log that lacks the witnessed checkpoint (rolled back, truncated) or
// holds a different one (history rewritten), which the log's own files cannot show: a log cut back
// to an earlier checkpoint is a perfectly valid shorter log.
import { readFile, open, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Logger } from '../logger.ts';
import type { Store } from '../store/store.ts';
import { decodeCheckpointLine, encodeCheckpointLine, type Checkpoint } from './checkpoint-format.ts';
import { verifyCheckpointSignature, type CheckpointVerifier } from './keys.ts';
import { type CheckpointHistory, findCheckpoint } from './scan-checkpoints.ts';

export interface Witness {
  /** for messages: "file /path" or "store key ..." */
  readonly name: string;
  /** the stored checkpoint line, undefined when there is none */
  read(): Promise<string | undefined>;
  write(line: string): Promise<void>;
}

export class FileWitness implements Witness {
  readonly name: string;
  private readonly path: string;
  constructor(path: string) {
    this.path = path;
    this.name = `file ${path}`;
  }

  async read(): Promise<string | undefined> {
    try {
      return await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new Error(`cannot read witness ${this.path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
    }
  }

  async write(line: string): Promise<void> {
    // replace atomically: a crash leaves the old or the new checkpoint, never half of one
    const tmp = `${this.path}.tmp`;
    const file = await open(tmp, 'w', 0o600);
    try {
      await file.writeFile(line);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(tmp, this.path);
    const directory = await open(dirname(this.path), 'r');
    try {
      await directory.sync();
    } finally {
      await directory.close();
    }
  }
}

/** Store keys need a TTL; refreshed at every checkpoint, so only a log idle for years loses it. */
const STORE_TTL_SECONDS = 10 * 365 * 24 * 3600;

export class StoreWitness implements Witness {
  readonly name: string;
  private readonly key: string;
  private readonly store: Store;
  /** `logId`: the checkpoint key id, with `:<audit.name>` when the log has a name */
  constructor(store: Store, logId: string) {
    this.store = store;
    this.key = `audit-witness:${logId}`;
    this.name = `store key ${this.key}`;
  }

  read(): Promise<string | undefined> {
    return this.store.get(this.key);
  }

  write(line: string): Promise<void> {
    return this.store.set(this.key, line, STORE_TTL_SECONDS);
  }
}

/** Hands checkpoints to the witnesses off the write path; of several pending only the newest is sent. */
export class WitnessPublisher {
  /** set while the witnesses cannot be updated: the log refuses events then (fail closed), since a
   * witness left behind would let a rollback to its checkpoint go unnoticed */
  failure: string | undefined;
  private readonly witnesses: readonly Witness[];
  private readonly logger: Logger;
  private running: Promise<void> | undefined;
  private next: string | undefined;

  constructor(witnesses: readonly Witness[], logger: Logger) {
    this.witnesses = witnesses;
    this.logger = logger;
  }

  publish(line: string): void {
    if (this.witnesses.length === 0) return;
    this.next = line;
    this.running ??= this.run().finally(() => (this.running = undefined));
  }

  /** While the witnesses are left behind: sends `line` (the latest checkpoint) again unless a send is under
   * way, and resolves once that send has ended. Events are refused meanwhile, so a store back from an outage
   * must not wait for the next checkpoint tick to take them again. */
  async retry(line: string): Promise<void> {
    if (!this.failure) return;
    if (!this.running) this.publish(line);
    await this.running;
  }

  /** Resolves once every checkpoint handed over so far has been sent (or has failed). */
  async settled(): Promise<void> {
    while (this.running) await this.running;
  }

  private async run(): Promise<void> {
    while (this.next !== undefined) {
      const line = this.next;
      this.next = undefined;
      // each witness's write runs to its end: one that fails (Redis down) must not leave the other half
      // written when close() returns and the process exits (only `audit-witness.json.tmp` holding it)
      const results = await Promise.allSettled(this.witnesses.map(async (witness) => witness.write(line)));
      let failure: string | undefined;
      results.forEach((result, i) => {
        if (result.status === 'fulfilled') return;
        const code = (result.reason as NodeJS.ErrnoException).code ?? (result.reason as Error).name;
        failure ??= `cannot update the audit witness (${code})`;
        if (!this.failure)
          this.logger.error('cannot update the audit witness; refusing events until it can be', {
            witness: this.witnesses[i]!.name,
            code,
          });
      });
      if (!failure && this.failure) this.logger.warn('audit witness updated again; accepting events');
      this.failure = failure;
    }
  }
}

export function witnessLine(cp: Checkpoint): string {
  return encodeCheckpointLine(cp);
}

/**
 * Why the log's checkpoints do not agree with what a witness holds, or undefined when they do. A log
 * ahead of its witness is fine (a crash between writing a checkpoint and updating the witness).
 */
export async function witnessProblem(
  name: string,
  stored: string | undefined,
  log: CheckpointHistory,
  key: CheckpointVerifier,
): Promise<string | undefined> {
  const latest = log.checkpoints.at(-1)?.checkpoint;
  if (stored === undefined) {
    if (!latest) return undefined; // a new log: nothing witnessed yet
    return `witness ${name} holds no checkpoint, but the log has ${log.checkpointCount} (the witness was deleted or lost, or configured after the log began); check the log with "vpm-gateway audit verify --config FILE", then run "vpm-gateway audit witness --config FILE --reset"`;
  }
  let witnessed: Checkpoint;
  try {
    witnessed = decodeCheckpointLine(stored.trimEnd());
    await verifyCheckpointSignature(witnessed, key);
  } catch (err) {
    return `witness ${name} holds no valid checkpoint of this log: ${(err as Error).message}`;
  }
  const mine = findCheckpoint(log, (c) => c.n === witnessed.n);
  if (!mine) {
    return `the log is shorter than witness ${name}: the witness holds checkpoint ${witnessed.n} (size ${witnessed.size}, ${witnessed.time}) but the log's latest checkpoint is ${latest ? `${latest.n} (size ${latest.size}, ${latest.time})` : 'none'} (log rolled back or truncated)`;
  }
  const differs = (['size', 'root', 'time', 'sig'] as const).filter((field) => mine[field] !== witnessed[field]);
  if (differs.length) {
    return `the log is inconsistent with witness ${name}: checkpoint ${witnessed.n} differs in ${differs.join(', ')} (witness: size ${witnessed.size}, root ${witnessed.root.slice(0, 16)}…; log: size ${mine.size}, root ${mine.root.slice(0, 16)}…): history rewritten`;
  }
  return undefined;
}

/** Problems of the log against every witness (read failures included). */
export async function checkWitnesses(
  witnesses: readonly Witness[],
  log: CheckpointHistory,
  key: CheckpointVerifier,
): Promise<string[]> {
  const problems: string[] = [];
  for (const witness of witnesses) {
    let stored: string | undefined;
    try {
      stored = await witness.read();
    } catch (err) {
      problems.push(`cannot read witness ${witness.name}: ${(err as Error).message}`);
      continue;
    }
    const problem = await witnessProblem(witness.name, stored, log, key);
    if (problem) problems.push(problem);
  }
  return problems;
}

/** A time further ahead of this host's clock than the allowed skew: refused, else it would hold every later entry's time. */
export function futureTimeProblem(
  times: (string | undefined)[],
  maxSkewMs: number,
  now = Date.now(),
): string | undefined {
  for (const t of times) {
    if (t !== undefined && Date.parse(t) > now + maxSkewMs) {
      return `the log holds time ${t}, ahead of this host's clock (${new Date(now).toISOString()}) by more than audit.max_clock_skew_ms (${maxSkewMs} ms): a forged or mis-set time; check the clock and the log`;
    }
  }
  return undefined;
}
