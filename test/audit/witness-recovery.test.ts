// The store witness failing while Redis is away refuses events (fail closed: a witness left behind would let
// a rollback to its checkpoint go unnoticed). Once Redis answers again the log must take events again at
// once, not only at its next checkpoint tick (`audit.checkpoint_interval_ms`): meanwhile every login step
// would be ended at the service with temporarily_unavailable and /readyz would say the audit log is down,
// though nothing is any longer in the way. A real redis-server, killed and started again.
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { AuditUnavailableError } from '../../src/audit/events.ts';
import type { FileAuditLog } from '../../src/audit/log.ts';
import { RedisStore } from '../../src/store/redis.ts';
import { RedisFleet } from '../store/redis-fleet.ts';
import { type RedisProcess, until } from '../store/redis-processes.ts';
import { loginEvents, testLog } from './helpers.ts';

const fleet = new RedisFleet();
let redis: RedisProcess;

beforeAll(async () => {
  redis = await fleet.server();
});
afterAll(async () => {
  await fleet.stop();
  // ioredis leaves the command timeout of each command it refused while disconnected running (2 s)
  await sleep(2_100);
});

/** Whether the store answers: its client has seen Redis go or come back. */
const answers = (store: RedisStore) =>
  store.get('probe').then(
    () => true,
    () => false,
  );

test('Redis back after the witness failed: the next event is taken at once, and the log is healthy again', async () => {
  // no checkpoint tick within the test: only the log's own recovery can bring it back
  const t = testLog({ checkpoint_every: 1, checkpoint_interval_ms: 3_600_000 });
  const store = new RedisStore({
    url: `redis://127.0.0.1:${redis.port}`,
    prefix: `vpm-test-${randomBytes(6).toString('hex')}:`,
  });
  const events = loginEvents(0);
  /** Redis killed and an event checkpointed: the store witness is left behind, the log refuses events. */
  const witnessLeftBehind = async (log: FileAuditLog) => {
    await redis.kill();
    await until(async () => !(await answers(store)), 'the store to see Redis gone');
    await log.record(events.shift()!);
    await log.checkpoint();
    expect(log.status().error).toBe('cannot update the audit witness (StoreUnavailableError)');
  };
  try {
    const log = await t.open({ store });
    await log.record(events.shift()!);
    await log.checkpoint();
    expect(log.status().healthy).toBe(true);

    await witnessLeftBehind(log);
    await expect(log.record(events[0]!)).rejects.toBeInstanceOf(AuditUnavailableError);
    await redis.start();
    await until(() => answers(store), 'the store to answer again');
    await log.record(events.shift()!);
    expect(log.status()).toMatchObject({ healthy: true });

    // an instance a load balancer took out of service gets no events: its readiness probe brings it back
    await witnessLeftBehind(log);
    await redis.start();
    await until(async () => log.status().healthy, 'the log healthy again without an event', 200);
    await log.close();
  } finally {
    await store.close();
  }
}, 30_000);
