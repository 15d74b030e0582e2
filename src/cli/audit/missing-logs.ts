// Logs that the witnesses say exist but the directory no longer holds. `start --workers N` writes one log per
// worker under `audit.dir/worker-<n>`, each with its own witness file (src/ops/worker-audit.ts); a reading
// command finds the logs by their files, so a worker's log deleted whole (or all of them) would simply not
// be in the set. With --config, every worker witness next to the configured one names a log that must be
// there; so does the configured witness itself, when audit.dir's own log (one process before the
// workers) is gone but its workers' logs below it keep the directory looking like a parent of logs.
import { readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { type AuditConfig, witnessPath } from '../../audit/config.ts';
import type { LogRef } from './log-set.ts';
import { workerAuditConfig } from '../../ops/worker-audit.ts';

export interface MissingLog {
  /** the directory the log should be in */
  dir: string;
  name: string;
  /** the witness file that names it, and what it holds */
  witness: string;
  holds: string;
}

/** Worker witness files beside the configured witness file, by worker number: a file naming a worker
 * number counts when it is the very file workerAuditConfig gives that worker's witness. */
function workerWitnesses(config: AuditConfig): Map<number, string> {
  const folder = dirname(witnessPath(config));
  const found = new Map<number, string>();
  let files: string[] = [];
  try {
    files = readdirSync(folder);
  } catch {
    return found;
  }
  for (const file of files) {
    const n = Number(/worker-([1-9]\d{0,2})\b/.exec(file)?.[1]);
    if (!n) continue;
    const witness = witnessPath(workerAuditConfig(config, n));
    if (resolve(witness) === resolve(folder, file)) found.set(n, witness);
  }
  return found;
}

/** What a witness file holds, or undefined when there is no such file or it is empty. */
function summary(witness: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(witness, 'utf8');
  } catch {
    return undefined;
  }
  if (!text.trim()) return undefined;
  try {
    const cp = JSON.parse(text) as { n?: unknown; size?: unknown };
    return `checkpoint ${String(cp.n)} (size ${String(cp.size)})`;
  } catch {
    return 'a checkpoint';
  }
}

/** The logs of --config that the set lacks (its own, its workers'), when the set is read from audit.dir
 * (the default). */
export function missingLogs(config: AuditConfig | undefined, logs: LogRef[], operands: string[]): MissingLog[] {
  if (!config) return [];
  const parent = resolve(config.dir);
  if (operands.length && !operands.some((dir) => resolve(dir) === parent)) return [];
  const present = new Set(logs.map((log) => resolve(log.dir)));
  const witnessed: MissingLog[] = [];
  const own = witnessPath(config);
  const ownHolds = present.has(parent) ? undefined : summary(own);
  if (ownHolds) witnessed.push({ dir: config.dir, name: basename(parent), witness: own, holds: ownHolds });
  for (const [n, witness] of [...workerWitnesses(config)].sort(([a], [b]) => a - b)) {
    const holds = summary(witness);
    if (!present.has(join(parent, `worker-${n}`)))
      witnessed.push({
        dir: join(config.dir, `worker-${n}`),
        name: `worker-${n}`,
        witness,
        holds: holds ?? 'a checkpoint',
      });
  }
  return witnessed;
}
