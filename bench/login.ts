// `npm run bench`: brokered logins per second through the whole gateway (authorization request, provider
// selection, mock provider round trip, callback, token exchange with ID token validation by openid-client),
// side by side on the memory and the Redis store, next to the raw cost of the ID token signature.
// Loopback only; bounded in count. Usage: node bench/login.ts [logins=400] [concurrency=8]
import { randomBytes } from 'node:crypto';
import { generateKeyPair, SignJWT } from 'jose';
import * as oidc from 'openid-client';
import { MemoryStore } from '../src/store/memory.ts';
import { RedisStore } from '../src/store/redis.ts';
import type { Store } from '../src/store/store.ts';
import { startGateway, rpConfig, loginThroughMock } from '../test/support/gateway.ts';

const total = Number(process.argv[2] ?? 400);
const concurrency = Number(process.argv[3] ?? 8);
const redisUrl = process.env.VPM_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';

async function loginsPerSecond(
  label: string,
  store: Store,
): Promise<{ label: string; perSecond: number; p50: number; p95: number }> {
  // one client address makes every login here: lift the per-address limits out of the measurement
  const gw = await startGateway({
    store,
    settings: { limits: { authorization: 1_000_000, interaction: 1_000_000, callback: 1_000_000 } },
    logger: {
      debug() {},
      info() {},
      warn() {},
      error() {},
      child() {
        return this;
      },
    },
  });
  const rp = await rpConfig(gw.issuer);
  const one = async () => {
    const login = await loginThroughMock(rp);
    await oidc.authorizationCodeGrant(rp, login.callback!, {
      pkceCodeVerifier: login.verifier,
      expectedState: login.state,
      expectedNonce: login.nonce,
      idTokenExpected: true,
    });
  };
  for (let i = 0; i < 20; i += 1) await one(); // warm up JIT and connections
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        next += 1;
        const t0 = performance.now();
        await one();
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  await gw.close();
  latencies.sort((a, b) => a - b);
  return {
    label,
    perSecond: latencies.length / seconds,
    p50: latencies[Math.floor(latencies.length / 2)]!,
    p95: latencies[Math.floor(latencies.length * 0.95)]!,
  };
}

async function signaturesPerSecond(): Promise<number> {
  const { privateKey } = await generateKeyPair('PS256');
  const n = 500;
  const t0 = performance.now();
  for (let i = 0; i < n; i += 1)
    await new SignJWT({ sub: 'PNOLV-010180-15097' }).setProtectedHeader({ alg: 'PS256' }).sign(privateKey);
  return n / ((performance.now() - t0) / 1000);
}

const memory = await loginsPerSecond('memory store', new MemoryStore());
const redis = new RedisStore({ url: redisUrl, prefix: `vpmbench:${randomBytes(4).toString('hex')}:` });
const withRedis = await loginsPerSecond('redis store', redis);
await redis.close();
const sign = await signaturesPerSecond();

const row = (r: typeof memory) =>
  `| ${r.label.padEnd(13)} | ${r.perSecond.toFixed(0).padStart(9)} | ${r.p50.toFixed(1).padStart(7)} | ${r.p95.toFixed(1).padStart(7)} | ${(r.perSecond / sign).toFixed(3).padStart(14)} |`;
console.log(
  `node ${process.version}, ${total} logins per store, concurrency ${concurrency}, one process (gateway + client + mock provider)`,
);
console.log('| store         | logins/s  | p50 ms  | p95 ms  | vs PS256 sign  |');
console.log('|---------------|-----------|---------|---------|----------------|');
console.log(row(memory));
console.log(row(withRedis));
console.log(
  `PS256 signatures/s (one core, jose): ${sign.toFixed(0)}; redis/memory login ratio: ${(withRedis.perSecond / memory.perSecond).toFixed(2)}`,
);
process.exit(0);
