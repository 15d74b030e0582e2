// A store on Sentinel against real redis-server and redis-sentinel processes the test starts: a primary that
// freezes (SIGSTOP: its connections stay open and nothing answers on them) is left once a command times out,
// and the store goes on with the replica Sentinel promotes while the old primary is still frozen. ioredis
// alone reconnects only when a connection closes.
import { randomBytes } from 'node:crypto';
import { RedisStore } from '../../src/store/redis.ts';
import { command, RedisFleet, type RedisProcess, until } from './redis-processes.ts';

const fleet = new RedisFleet();
let primary: RedisProcess;
let sentinels: RedisProcess[];

beforeAll(async () => {
  primary = await fleet.server();
  await fleet.server(['--replicaof', '127.0.0.1', String(primary.port)]);
  await until(
    async () => (await command(primary.port, 'INFO', 'replication'))?.includes('state=online') ?? false,
    'the replica attached',
  );
  sentinels = [];
  for (let i = 0; i < 3; i += 1) sentinels.push(await fleet.sentinel(primary.port, 'vpm'));
  await until(
    async () => (await command(sentinels[0]!.port, 'SENTINEL', 'ckquorum', 'vpm'))?.startsWith('+OK') ?? false,
    'sentinels agree on the quorum',
  );
}, 60_000);
afterAll(async () => {
  await fleet.stop();
});

test('a frozen primary is left after a command times out: the store answers from the promoted replica', async () => {
  const store = new RedisStore({
    url: `redis+sentinel://${sentinels.map((s) => `127.0.0.1:${s.port}`).join(',')}/vpm`,
    prefix: `vpmtest:${randomBytes(6).toString('hex')}:`,
    command_timeout_ms: 500,
  });
  // acknowledged by the replica (wait_replicas is 1 on Sentinel)
  await store.set('x', '1', 60);
  primary.child!.kill('SIGSTOP');
  await until(async () => (await store.get('x').catch(() => undefined)) === '1', 'the store answers again');
  const named = await command(sentinels[0]!.port, 'SENTINEL', 'get-master-addr-by-name', 'vpm');
  expect(Number(/\r\n(\d+)\r\n$/.exec(named ?? '')?.[1])).not.toBe(primary.port);
  await store.close();
}, 60_000);
