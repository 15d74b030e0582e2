// Two writers on one log, past its lock: the lock file removed while its writer runs (as the refusal's
// message tells an operator to do once that writer is gone), or taken over by a gateway in another PID
// namespace that shares the host name and the volume (its pid check cannot see the first). Both would append
// to the same segment, each numbering its entries from its own count: duplicate indices, a log that no longer
// verifies, while both acknowledge every event. Each writer checks, before it appends, that the file holds
// exactly what it wrote; the one that finds bytes it did not write fails closed, and the log stays whole.
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { AuditUnavailableError } from '../../src/audit/events.ts';
import { cli, testLog } from './helpers.ts';

const event = (n: number) => ({ type: 'provider_chosen' as const, correlationId: `corr-${n}`, clientId: 'rp' });

test('a second writer whose lock was had by mistake fails closed at its first write; the log still verifies', async () => {
  const t = testLog();
  const first = await t.open();
  await first.record(event(1));
  rmSync(join(t.dir, 'writer.lock'));
  const second = await t.open();
  await first.record(event(2)); // the first writer goes on: the file still ends where it left it
  const refused = await second.record(event(3)).catch((err: Error) => err);
  expect(refused).toBeInstanceOf(AuditUnavailableError);
  const segment = join(t.dir, readdirSync(t.dir).find((n) => n.startsWith('segment-'))!);
  expect((refused as Error).message).toContain(`${segment} holds`);
  expect((refused as Error).message).toContain('another process writes this log');
  expect(second.status()).toMatchObject({ healthy: false });
  await first.record(event(4));
  await second.close();
  await first.close();
  const verify = await cli('verify', t.dir, '--public-key', t.publicKey, '--json');
  expect(verify.json.problems).toEqual([]);
  const query = await cli('query', t.dir, '--json');
  expect(query.json.entries.map((e: { corr: string }) => e.corr)).toEqual(['corr-1', 'corr-2', 'corr-4']);
});

test('a checkpoint is not appended after checkpoints another process wrote', async () => {
  const t = testLog();
  const first = await t.open();
  await first.record(event(1));
  rmSync(join(t.dir, 'writer.lock'));
  const second = await t.open(); // signs the entry the first left unsigned: checkpoints.jsonl grows
  await second.checkpoint();
  await first.record(event(2)).catch(() => {});
  await expect(first.checkpoint()).rejects.toThrow('another process writes this log');
  await first.close();
  await second.close();
  const verify = await cli('verify', t.dir, '--public-key', t.publicKey, '--json');
  expect(verify.json.problems).toEqual([]);
});
