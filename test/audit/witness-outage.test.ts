// One witness down while the other is written, as at a graceful shutdown with Redis gone (a real
// redis-server, killed, then started again from its append-only file): the witnesses are written each on
// its own, and the log's close() returns only once the file witness is written, since the process exits
// right after. Had the file witness been cut short (only `audit-witness.json.tmp` holding the final
// checkpoint, or nothing new at all), a log cut back to the checkpoint both witnesses last held would verify.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { witnessPath } from '../../src/audit/config.ts';
import { CHECKPOINTS_FILE } from '../../src/audit/format.ts';
import { FileWitness, StoreWitness, WitnessPublisher } from '../../src/audit/witness.ts';
import { memoryLogger } from '../../src/logger.ts';
import { RedisStore } from '../../src/store/redis.ts';
import { RedisFleet } from '../store/redis-fleet.ts';
import { type RedisProcess, until } from '../store/redis-processes.ts';
import { cli, configFile, loginEvents, testLog } from './helpers.ts';

const fleet = new RedisFleet();
let redis: RedisProcess;

beforeAll(async () => {
  // every write on disk before it is answered: what Redis held survives the kill
  redis = await fleet.server(['--appendonly', 'yes', '--appendfsync', 'always']);
});
afterAll(async () => {
  await fleet.stop();
  // ioredis leaves the command timeout of each command it refused while disconnected running (2 s): let
  // them end, so the test worker exits cleanly
  await sleep(2_100);
});

const url = () => `redis://127.0.0.1:${redis.port}`;
const newPrefix = () => `vpm-test-witness-${randomBytes(6).toString('hex')}:`;

/** Redis killed, and the store's client aware of it (its commands now fail at once). */
async function redisDown(store: RedisStore): Promise<void> {
  await redis.kill();
  await until(
    () =>
      store.get('probe').then(
        () => false,
        () => true,
      ),
    'the store to see Redis gone',
  );
}

/** The real file witness on a volume that takes a while per write (a network disk, a busy one). */
class SlowVolumeWitness extends FileWitness {
  override async write(line: string): Promise<void> {
    await sleep(300);
    await super.write(line);
  }
}

test('the store witness failing (Redis down) does not cut the file witness write short, nor the wait for it', async () => {
  const t = testLog();
  const store = new RedisStore({ url: url(), prefix: newPrefix() });
  const logger = memoryLogger();
  try {
    await store.set('probe', 'up', 60); // connected
    await redisDown(store);
    mkdirSync(dirname(witnessPath(t.config)), { recursive: true });
    const file = new SlowVolumeWitness(witnessPath(t.config));
    const publisher = new WitnessPublisher([file, new StoreWitness(store, 'kid')], logger);
    publisher.publish('checkpoint line\n');
    await publisher.settled();
    expect(readFileSync(witnessPath(t.config), 'utf8')).toBe('checkpoint line\n');
    expect(readdirSync(dirname(witnessPath(t.config))).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    // fail closed all the same: one witness left behind refuses events
    expect(publisher.failure).toBe('cannot update the audit witness (StoreUnavailableError)');
    expect(logger.lines.join('\n')).toContain('"witness":"store key audit-witness:kid"');
    expect(logger.lines.join('\n')).not.toContain('"witness":"file ');
  } finally {
    await redis.start();
    await store.close();
  }
});

test('Redis down at close: the file witness still gets the final checkpoint before close() returns', async () => {
  const t = testLog({ checkpoint_every: 1000, checkpoint_interval_ms: 3_600_000 });
  const prefix = newPrefix();
  const store = new RedisStore({ url: url(), prefix });
  const checkpoints = () => readFileSync(join(t.dir, CHECKPOINTS_FILE), 'utf8').trimEnd().split('\n');
  const witness = witnessPath(t.config);
  try {
    const log = await t.open({ store });
    for (const e of loginEvents(0)) await log.record(e);
    await log.checkpoint(); // both witnesses hold it
    const first = `${checkpoints().at(-1)!}\n`;
    expect(readFileSync(witness, 'utf8')).toBe(first);
    for (const e of loginEvents(1)) await log.record(e);

    await redisDown(store);
    await log.close(); // the final checkpoint: the store refuses it, the file takes it

    // what the file holds the moment close() returns, when a gateway shutting down exits
    const final = `${checkpoints().at(-1)!}\n`;
    expect(final).not.toBe(first);
    expect(readdirSync(dirname(witness)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(readFileSync(witness, 'utf8')).toBe(final);
    const failed = t.logger.lines.filter((l) => l.includes('cannot update the audit witness'));
    expect(failed.join('\n')).toContain('"witness":"store key audit-witness:');
    expect(failed.join('\n')).not.toContain('"witness":"file ');

    await redis.start(); // back, holding the first checkpoint: behind the log, which is fine
    const path = configFile(t, { url: url(), prefix });
    const intact = await cli('verify', '--config', path);
    expect(intact.stdout).toMatch(/^OK: every entry/m);
    expect(intact.code).toBe(0);

    // the log cut back to the first checkpoint: Redis cannot tell, the file witness can
    writeFileSync(join(t.dir, CHECKPOINTS_FILE), first);
    const size = JSON.parse(first).size as number;
    const segment = join(t.dir, readdirSync(t.dir).find((f) => f.startsWith('segment-'))!);
    const entries = readFileSync(segment, 'utf8').split('\n').slice(0, size);
    writeFileSync(segment, `${entries.join('\n')}\n`);
    const cut = await cli('verify', '--config', path);
    expect(cut.stdout).toContain(`FAILED: the log is shorter than witness file ${witness}`);
    expect(cut.code).toBe(1);
  } finally {
    await store.close();
  }
}, 30_000);
