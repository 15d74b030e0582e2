// A second writer past the lock opens checkpoints.jsonl after verifying it: when the first writer appends a
// checkpoint in between, the second must count it as bytes it did not write. Taking the file's size when it
// opens it would adopt that checkpoint as its own starting point; its next checkpoint then repeats the
// first's number after it, and the log no longer verifies. The first writer's checkpoint is made to land in
// that gap for certain: the second's store witness is read there (src/audit/open.ts), and its read waits for it.
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { AuditUnavailableError } from '../../src/audit/events.ts';
import type { FileAuditLog } from '../../src/audit/log.ts';
import { MemoryStore } from '../../src/store/memory.ts';
import { cli, testLog } from './helpers.ts';

const event = (n: number) => ({ type: 'provider_chosen' as const, correlationId: `corr-${n}`, clientId: 'rp' });

/** A store whose audit witness, once read, lets `meanwhile` run before it answers. */
function witnessReadGap(meanwhile: () => Promise<void>): MemoryStore {
  const store = new MemoryStore();
  const get = store.get.bind(store);
  store.get = async (key: string) => {
    if (key.startsWith('audit-witness:')) await meanwhile();
    return get(key);
  };
  return store;
}

test('a checkpoint the first writer appends while the second opens the log: the second fails closed at its own', async () => {
  const t = testLog();
  const first = await t.open();
  await first.record(event(1)); // not yet under a checkpoint
  rmSync(join(t.dir, 'writer.lock'));
  let second: FileAuditLog | undefined;
  try {
    second = await t.open({ store: witnessReadGap(() => first.checkpoint()) });
    expect(readFileSync(join(t.dir, 'checkpoints.jsonl'), 'utf8').split('\n').filter(Boolean)).toHaveLength(1);
    await second.record(event(2));
    const refused = await second.checkpoint().catch((err: Error) => err);
    expect(refused).toBeInstanceOf(AuditUnavailableError);
    expect((refused as Error).message).toContain(`${join(t.dir, 'checkpoints.jsonl')} holds`);
    expect((refused as Error).message).toContain('another process writes this log');
  } finally {
    await second?.close();
    await first.close();
  }
  const verify = await cli('verify', t.dir, '--public-key', t.publicKey, '--json');
  expect(verify.json.problems).toEqual([]);
});
