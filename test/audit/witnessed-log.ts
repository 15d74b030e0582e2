// What the witness and forgery tests share: a closed log of 4 logins with a checkpoint every 5 entries,
// read and cut back as someone who can write the audit directory but holds no key would, and key prefixes
// of their own in the tests' Redis.
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CHECKPOINTS_FILE } from '../../src/audit/format.ts';
import { decodeCheckpointLine } from '../../src/audit/checkpoint-format.ts';
import type { RedisStore } from '../../src/store/redis.ts';
import { loginEvents, type TestLog } from './helpers.ts';

export const REDIS_URL = process.env.VPM_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A log of 4 logins (28 entries) with a checkpoint every 5 entries, closed (fully checkpointed). */
export async function writtenLog(t: TestLog, options: { store?: RedisStore } = {}): Promise<void> {
  const log = await t.open(options.store ? { store: options.store } : undefined);
  for (let n = 0; n < 4; n++) for (const e of loginEvents(n)) await log.record(e);
  await log.close();
}

export const segmentOf = (t: TestLog) => join(t.dir, readdirSync(t.dir).find((f) => f.startsWith('segment-'))!);
export const checkpointLines = (t: TestLog) =>
  readFileSync(join(t.dir, CHECKPOINTS_FILE), 'utf8').trimEnd().split('\n');

/** The attack: segment and checkpoints.jsonl cut back to the first checkpoint (a valid, shorter log). */
export function truncateToFirstCheckpoint(t: TestLog): number {
  const first = checkpointLines(t)[0]!;
  writeFileSync(join(t.dir, CHECKPOINTS_FILE), `${first}\n`);
  const size = decodeCheckpointLine(first).size;
  const entries = readFileSync(segmentOf(t), 'utf8').split('\n').slice(0, size);
  writeFileSync(segmentOf(t), `${entries.join('\n')}\n`);
  return size;
}

export const newPrefix = () => `vpm-test-witness-${randomBytes(6).toString('hex')}:`;
