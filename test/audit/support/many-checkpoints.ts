// A log with many real checkpoints: entries written by the gateway's writer, then checkpoints.jsonl
// rewritten as the writer would have left it after checkpointing far more often (many checkpoints per
// tree size), each signed with the log's own checkpoint key, and the witness holding the latest.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { encodeCheckpointLine, type Checkpoint } from '../../../src/audit/checkpoint-format.ts';
import { witnessPath } from '../../../src/audit/config.ts';
import { loadOrCreateCheckpointKey, signCheckpoint } from '../../../src/audit/keys.ts';
import { CompactTree } from '../../../src/audit/merkle.ts';
import { join } from 'node:path';
import { type TestLog, testLog } from '../helpers.ts';

/** The root of the tree after each number of entries (index 0: the empty tree), read from the segments. */
function rootsBySize(dir: string): string[] {
  const tree = new CompactTree();
  const roots = [tree.root().toString('hex')];
  for (const name of readdirSync(dir)
    .filter((n) => n.startsWith('segment-'))
    .sort()) {
    for (const line of readFileSync(join(dir, name), 'utf8').split('\n')) {
      if (!line) continue;
      tree.push(Buffer.from((JSON.parse(line) as { leaf: string }).leaf, 'hex'));
      roots.push(tree.root().toString('hex'));
    }
  }
  return roots;
}

export interface ManyCheckpoints {
  t: TestLog;
  checkpoints: number;
  entries: number;
  /** the checkpoint lines, as written */
  lines: string[];
}

export async function logWithManyCheckpoints(entries: number, checkpoints: number): Promise<ManyCheckpoints> {
  const t = testLog({ checkpoint_every: 1_000_000 });
  const log = await t.open();
  await Promise.all(
    Array.from({ length: entries }, (_, k) =>
      log.record({ type: 'provider_chosen', correlationId: `login-${k}`, clientId: 'rp', providerId: 'mock-eid' }),
    ),
  );
  await log.close();
  const roots = rootsBySize(t.dir);
  const time = new Date().toISOString();
  const signer = await loadOrCreateCheckpointKey(t.config.signing_key, t.config.signing_alg);
  const lines: string[] = [];
  let latest: Checkpoint | undefined;
  for (let n = 0; n < checkpoints; n++) {
    const size = Math.ceil(((n + 1) * entries) / checkpoints);
    latest = await signCheckpoint({ n, size, root: roots[size]!, time }, signer);
    lines.push(encodeCheckpointLine(latest));
  }
  writeFileSync(join(t.dir, 'checkpoints.jsonl'), lines.join(''));
  writeFileSync(witnessPath(t.config), encodeCheckpointLine(latest!));
  return { t, checkpoints, entries, lines };
}
