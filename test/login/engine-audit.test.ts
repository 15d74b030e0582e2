// The engine's own audit records (src/login/engine-events.ts) come after a store round trip, so a drained
// listener does not mean they are written: settled() lets a graceful shutdown wait for them before the
// audit log closes, so a failed token request's entry is kept and under the final checkpoint.
import { EventEmitter } from 'node:events';
import { createServer } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { MemoryAuditLog } from '../../src/audit/events.ts';
import type Provider from 'oidc-provider';
import { scanLog } from '../../src/audit/scan.ts';
import { auditEngineEvents } from '../../src/login/engine-events.ts';
import type { Accounts } from '../../src/login/accounts.ts';
import type { Broker } from '../../src/login/broker.ts';
import { memoryLogger } from '../../src/logger.ts';
import { MemoryStore } from '../../src/store/memory.ts';
import { testLog } from '../audit/helpers.ts';

/** The real memory store, whose rate counts answer only once the test lets them. */
class HeldCounts extends MemoryStore {
  private held: (() => void)[] = [];
  override async increment(key: string, ttlSeconds: number) {
    await new Promise<void>((go) => this.held.push(go));
    return super.increment(key, ttlSeconds);
  }
  release() {
    for (const go of this.held.splice(0)) go();
  }
}

test('a token error whose store round trip is still out when the gateway stops is recorded under the final checkpoint', async () => {
  const t = testLog();
  const log = await t.open();
  const store = new HeldCounts();
  const engine = new EventEmitter();
  const engineAudit = auditEngineEvents(engine as unknown as Provider, {
    audit: log,
    logger: memoryLogger(),
    accounts: {} as Accounts,
    broker: {} as Broker,
    store,
    limits: { token_errors: 10, window_seconds: 60 },
  });
  const ctx = { oidc: { client: { clientId: 'rp' } }, req: { ip: '127.0.0.1' }, ip: '127.0.0.1' };
  engine.emit('grant.error', ctx, new Error('invalid_grant'));
  // gateway.close(): the engine's records, then the audit log
  const stopped = (async () => {
    await engineAudit.settled();
    await log.close();
  })();
  await new Promise((next) => setImmediate(next)); // the shutdown is under way before the store answers
  store.release();
  await stopped;
  const types: string[] = [];
  const scan = await scanLog(t.dir, { key: undefined, onEntry: (e) => types.push(e.entry.type) });
  expect(scan.problems).toEqual([]);
  expect(types).toEqual(['tokens_issued_error']);
  expect(scan.checkpoints.at(-1)!.checkpoint.size).toBe(1);
  expect(scan.tail).toBe(0);
});

test('tokens whose service gave up waiting before the engine released them: recorded, and settled() returns', async () => {
  const audit = new MemoryAuditLog();
  const engine = new EventEmitter();
  const engineAudit = auditEngineEvents(engine as unknown as Provider, {
    audit,
    logger: memoryLogger(),
    accounts: { getIn: async () => undefined } as unknown as Accounts,
    broker: {} as Broker,
    store: new MemoryStore(),
    limits: { token_errors: 10, window_seconds: 60 },
  });
  let emitted!: () => void;
  const released = new Promise<void>((ok) => (emitted = ok));
  // the token endpoint still at work (a slow store) when the service's connection goes away; the engine
  // then releases the tokens on a response whose 'close' has already been
  const server = createServer((req, res) => {
    req.socket.once('close', () =>
      setImmediate(() => {
        const ctx = { status: 200, res, oidc: { entities: {}, client: { clientId: 'rp' } } };
        engine.emit('grant.success', ctx);
        res.end('{}');
        emitted();
      }),
    );
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const socket = connect((server.address() as AddressInfo).port, '127.0.0.1', () => {
    socket.write('POST /token HTTP/1.1\r\nHost: gateway\r\nContent-Length: 0\r\n\r\n');
    setTimeout(() => socket.destroy(), 20);
  });
  await released;
  server.close();
  // a hang shows as the second outcome, not as a jest timeout
  const outcome = await Promise.race([
    engineAudit.settled().then(() => 'settled'),
    new Promise((ok) => setTimeout(() => ok('still waiting after 3 s'), 3000)),
  ]);
  expect(outcome).toBe('settled');
  expect(audit.events.map((e) => e.type)).toEqual(['tokens_issued']);
});
