// Entries recorded in one tick (a login step's pair: the provider choice with the broker's request, the
// provider's answer with the verdict) share one durable write, each still acknowledged only
// once it is on disk, in the order recorded. A lone entry is written alone, right after its tick.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SUBJECT, testLog } from './helpers.ts';

test('two entries of one tick: one durable write, both in the file when acknowledged, in call order', async () => {
  const t = testLog();
  const log = await t.open();
  await log.record({ type: 'config_loaded', detail: { digest: 'sha256:first' } });
  const before = log.status().writes;
  const chosen = log.record({ type: 'provider_chosen', correlationId: 'c1', clientId: 'rp', providerId: 'bank' });
  const request = log.record({
    type: 'provider_request',
    correlationId: 'c1',
    clientId: 'rp',
    providerId: 'bank',
    detail: { digest: 'sha256:abc' },
  });
  await chosen;
  const text = readFileSync(join(t.dir, 'segment-000000000000.jsonl'), 'utf8');
  expect(text.indexOf('"provider_chosen"')).toBeGreaterThan(0);
  expect(text.indexOf('"provider_request"')).toBeGreaterThan(text.indexOf('"provider_chosen"'));
  await request;
  expect(log.status().writes - before).toBe(1);

  // the answer and its verdict (the verdict's entry hashes a personal code: still one write)
  await Promise.all([
    log.record({ type: 'provider_response', correlationId: 'c1', detail: { digest: 'sha256:def' } }),
    log.record({ type: 'verification', correlationId: 'c1', person: { subject: SUBJECT } }),
  ]);
  expect(log.status().writes - before).toBe(2);
  await log.close();
});

test('entries of separate ticks are separate writes', async () => {
  const t = testLog();
  const log = await t.open();
  await log.record({ type: 'config_loaded', detail: { digest: 'sha256:first' } });
  const before = log.status().writes;
  await log.record({ type: 'provider_chosen', correlationId: 'c2' });
  await log.record({ type: 'provider_request', correlationId: 'c2' });
  expect(log.status().writes - before).toBe(2);
  await log.close();
});
