// The demo's test peers (test banks, SAML IdP, OIDC eID, Smart-ID RP API: src/web/demo-peers.ts) keep their
// own logins in the memory of the process that serves them. With several workers sharing the port, the
// bank's one-time-code step or the IdP's login form lands on another worker half the time and is refused
// ("login session unknown or expired"): a demo on Redis then failed at random. So the demo runs one worker
// unless told otherwise, as the in-memory store does, and says why.
import { workerCount } from '../../src/cli/start.ts';

const demoOnRedis = { store: { type: 'redis' as const }, demo: { enabled: true }, production: false };

test('the demo on Redis: one worker by default, with a note saying why', () => {
  expect(workerCount(undefined, demoOnRedis, 8)).toEqual({
    workers: 1,
    note: expect.stringContaining('the demo providers keep their logins in this process'),
  });
  expect(workerCount('1', demoOnRedis, 8)).toEqual({ workers: 1 });
});

test('the demo on Redis with --workers 2: two, as asked', () => {
  expect(workerCount('2', demoOnRedis, 8)).toEqual({ workers: 2 });
});

test('the demo configuration in production mounts no peers: one worker per core as usual', () => {
  expect(workerCount(undefined, { ...demoOnRedis, production: true }, 8)).toEqual({ workers: 8 });
  expect(workerCount(undefined, { ...demoOnRedis, demo: { enabled: false } }, 8)).toEqual({ workers: 8 });
});
