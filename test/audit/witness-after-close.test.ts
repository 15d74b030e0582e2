// A log closed while its store witness was left behind (Redis away) writes no witness any more: its writer
// lock is released, and a writer started after it (a restart, a rolling update) may have signed newer
// checkpoints since. A readiness probe of the closing instance that sent the old checkpoint again would set
// the witness back, and a rollback to that checkpoint would then go unnoticed.
import { MemoryStore } from '../../src/store/memory.ts';
import { StoreUnavailableError } from '../../src/store/store.ts';
import { loginEvents, testLog } from './helpers.ts';

/** A store whose writes are refused while `away`. */
function storeAway(): { store: MemoryStore; writes: string[]; away: boolean } {
  const state = { store: new MemoryStore(), writes: [] as string[], away: true };
  const set = state.store.set.bind(state.store);
  state.store.set = async (key: string, value: string, ttl: number) => {
    if (state.away) throw new StoreUnavailableError('store away');
    state.writes.push(key);
    return set(key, value, ttl);
  };
  return state;
}

test('a closed log does not write its witness again when asked for its status', async () => {
  const t = testLog({ checkpoint_interval_ms: 3_600_000 });
  const redis = storeAway();
  redis.away = false;
  const log = await t.open({ store: redis.store });
  await log.record(loginEvents(0)[0]!);
  await log.checkpoint();
  redis.away = true;
  await log.record(loginEvents(0)[1]!);
  await log.checkpoint();
  expect(log.status().error).toBe('cannot update the audit witness (StoreUnavailableError)');
  await log.close();
  redis.away = false;
  const written = redis.writes.length;
  expect(log.status()).toMatchObject({ healthy: false, error: 'closed' });
  await log.checkpoint(); // resolves once every witness send under way has ended
  expect(redis.writes.length).toBe(written);
  await redis.store.close();
});
