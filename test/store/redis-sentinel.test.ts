// A store on Sentinel, against a real redis-server and redis-sentinel the test starts: closing it closes every
// connection it opened, the failover detector's +switch-master subscriptions at the Sentinels included (ioredis's
// quit() leaves those open, and they reconnect for ever once the Sentinels are gone: a process that never exits).
import { randomBytes } from 'node:crypto';
import { RedisStore } from '../../src/store/redis.ts';
import { command, RedisFleet, type RedisProcess, until } from './redis-processes.ts';

const fleet = new RedisFleet();
let sentinel: RedisProcess;

beforeAll(async () => {
  const primary = await fleet.server();
  sentinel = await fleet.sentinel(primary.port, 'vpm');
});
afterAll(async () => {
  await fleet.stop();
});

/** Connections subscribed to a channel at the Sentinel (CLIENT LIST's `sub=`). */
async function subscribers(): Promise<number> {
  const list = (await command(sentinel.port, 'CLIENT', 'LIST')) ?? '';
  return (list.match(/ sub=[1-9]/g) ?? []).length;
}

test('closed, it leaves no connection at the Sentinels, the failover subscriptions included', async () => {
  const store = new RedisStore({
    url: `redis+sentinel://127.0.0.1:${sentinel.port}/vpm`,
    prefix: `vpmtest:${randomBytes(6).toString('hex')}:`,
    // no replica here to acknowledge writes
    wait_replicas: 0,
  });
  await store.set('x', '1', 60);
  await until(async () => (await subscribers()) === 1, 'the failover detector subscribed at the Sentinel');
  await store.close();
  await until(async () => (await subscribers()) === 0, 'no subscription left at the Sentinel');
});
