// Values an attacker controls (a 150,000-character banklink VK_SERVICE, a long SAML StatusCode) are
// bounded in the audit entry and on stderr: the event is still recorded, never refused for its size.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { MAX_ENTRY_BYTES } from '../../src/audit/bound.ts';
import { ProviderError, type ProviderAdapter } from '../../src/broker/adapter.ts';
import { Broker } from '../../src/login/broker.ts';
import { BrokerError } from '../../src/login/broker-error.ts';
import { TEST_BROWSER } from '../support/broker.ts';
import { LoginStates } from '../../src/login/login-state.ts';
import { createLogger, MAX_LOG_LINE } from '../../src/logger.ts';
import { MemoryStore } from '../../src/store/memory.ts';
import { cli, testLog } from './helpers.ts';

test('a 150,000-character detail value is recorded, cut with a marker and the digest of the whole value', async () => {
  const t = testLog();
  const log = await t.open();
  const service = '1'.repeat(150_000);
  await log.record({
    type: 'verification_error',
    correlationId: 'c-long',
    providerId: 'bank',
    detail: { error: 'unexpected VK_SERVICE', vk_service: service, status: 'urn:x:'.repeat(30_000) },
  });
  // many bounded values can still add up: the whole detail is then kept as its size and digest
  await log.record({
    type: 'verification_error',
    correlationId: 'c-many',
    detail: Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`k${i}`, 'v'.repeat(1000)])),
  });
  await log.close();
  const lines = readdirSync(t.dir)
    .filter((f) => f.startsWith('segment-'))
    .flatMap((f) => readFileSync(join(t.dir, f), 'utf8').trimEnd().split('\n'));
  for (const line of lines) expect(Buffer.byteLength(line)).toBeLessThanOrEqual(MAX_ENTRY_BYTES);
  const { json } = await cli('query', t.dir, '--event', 'verification_error', '--json');
  expect(json.count).toBe(2);
  const [long, many] = json.entries;
  const digest = `sha256:${createHash('sha256').update(service).digest('base64url')}`;
  expect(long.detail.vk_service).toBe(`${'1'.repeat(256)}…[truncated: 150000 chars, ${digest}]`);
  expect(long.detail.error).toBe('unexpected VK_SERVICE');
  expect(many.detail).toEqual({
    truncated: expect.stringMatching(/^detail of \d+ bytes$/),
    digest: expect.stringMatching(/^sha256:/),
  });
  expect((await cli('verify', t.dir, '--public-key', t.publicKey)).code).toBe(0);
});

test('the logger prints no more than a bounded line, whatever a field holds', () => {
  const lines: string[] = [];
  const logger = createLogger('debug', (l) => lines.push(l));
  logger.error('request failed', { message: 'x'.repeat(150_000) });
  logger.warn('many fields', Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`f${i}`, 'y'.repeat(1000)])));
  expect(lines).toHaveLength(2);
  for (const l of lines) expect(l.length).toBeLessThanOrEqual(MAX_LOG_LINE);
  expect(JSON.parse(lines[0]!).message).toMatch(/^x{1024}…\[truncated, 150000 chars\]$/);
  expect(JSON.parse(lines[1]!)).toMatchObject({
    level: 'warn',
    msg: 'many fields',
    truncated: expect.stringMatching(/^line of \d+ chars$/),
  });
});

test('a provider answer quoting 150,000 characters is refused as a BrokerError and lands in the file log, with bounded log lines', async () => {
  const t = testLog();
  const log = await t.open();
  const lines: string[] = [];
  const logger = createLogger('debug', (l) => lines.push(l));
  const adapter: ProviderAdapter = {
    id: 'bank',
    kind: 'bank',
    maxLoa: 'substantial',
    connDataSchema: z.object({}),
    // a protocol with large fields (as SAML's): the broker passes the field on, the adapter quotes it
    callbackFieldLimits: { VK_SERVICE: 200_000 },
    start: async (ctx) => ({
      action: { type: 'redirect', url: `https://bank.example/?state=${ctx.state}` },
      connData: {},
    }),
    stateFrom: (params) => params.state,
    callback: async (ctx) => {
      throw new ProviderError(
        'invalid_response',
        `VK_SERVICE ${JSON.stringify(ctx.params.VK_SERVICE)} is not the expected 3013`,
      );
    },
  };
  const store = new MemoryStore();
  const broker = new Broker({
    states: new LoginStates(store, 60),
    audit: log,
    logger,
    adapters: new Map([['bank', adapter]]),
    callbackUrl: () => 'https://gw.example/cb',
  });
  const { state } = await broker.begin({
    browser: TEST_BROWSER,
    uid: 'u1',
    clientId: 'rp',
    providerId: 'bank',
    locale: 'lv',
    correlationId: 'k-long',
  });
  const err = await broker
    .complete('bank', { state, VK_SERVICE: '9'.repeat(150_000) }, 'POST', TEST_BROWSER)
    .catch((e: unknown) => e);
  expect(err).toBeInstanceOf(BrokerError);
  await log.close();
  await store.close();
  const { json } = await cli('query', t.dir, '--correlation', 'k-long', '--event', 'verification_error', '--json');
  expect(json.count).toBe(1);
  expect(json.entries[0].detail.reason).toMatch(
    /^invalid_response: VK_SERVICE "9+…\[truncated: 150056 chars, sha256:[\w-]+\]$/,
  );
  expect(lines.reduce((n, l) => n + l.length, 0)).toBeLessThan(8 * 1024);
});

test('a cut value keeps no personal code: not in the kept part, and its digest is of the redacted value', async () => {
  const t = testLog();
  const log = await t.open();
  const value = `user 010180-15097 ${'z'.repeat(5000)}`;
  await log.record({ type: 'verification_error', correlationId: 'c-code', detail: { reason: value } });
  await log.close();
  const { json } = await cli('query', t.dir, '--correlation', 'c-code', '--json');
  const reason: string = json.entries[0].detail.reason;
  expect(reason).not.toContain('010180');
  const redacted = value.replace('010180-15097', '[redacted]');
  expect(reason).toContain(`sha256:${createHash('sha256').update(redacted).digest('base64url')}`);
  expect(reason).not.toContain(`sha256:${createHash('sha256').update(value).digest('base64url')}`);
});

test.each([245, 247, 249, 255])(
  'a personal code across the cut (at character %i) is redacted before the value is cut, not left with 10 of its digits',
  async (offset) => {
    const t = testLog();
    const log = await t.open();
    const value = `${'x'.repeat(offset)} 010180-15097 ${'y'.repeat(1000)}`;
    await log.record({ type: 'verification_error', correlationId: `c-cut-${offset}`, detail: { reason: value } });
    await log.close();
    const file = readdirSync(t.dir)
      .filter((f) => f.endsWith('.jsonl'))
      .map((f) => readFileSync(join(t.dir, f), 'utf8'))
      .join('');
    expect(file).toContain(`c-cut-${offset}`);
    expect(file).not.toMatch(/010180|0101801/);
  },
);

test('a detail nested too deep is kept as the digest of its redacted JSON, which no guessed code reproduces', async () => {
  const t = testLog();
  const log = await t.open();
  const deep = (v: unknown, n: number): unknown => (n === 0 ? v : { a: deep(v, n - 1) });
  // bounded once the detail is large: its deepest part is then kept only as a digest
  await log.record({
    type: 'verification_error',
    correlationId: 'c-deep',
    detail: { reason: deep({ code: '010180-15097' }, 7), pad: 'p'.repeat(1100) },
  });
  await log.close();
  const { json } = await cli('query', t.dir, '--correlation', 'c-deep', '--json');
  const text = JSON.stringify(json.entries[0].detail);
  expect(text).toContain('nested deeper than');
  const sha = (s: string) => createHash('sha256').update(s).digest('base64url');
  const parts = Array.from({ length: 8 }, (_, n) => JSON.stringify(deep({ code: '010180-15097' }, n)));
  // the digest is of the redacted part, and of no part with the code in it
  expect(parts.some((part) => text.includes(sha(part.replace('010180-15097', '[redacted]'))))).toBe(true);
  for (const part of parts) expect(text).not.toContain(sha(part));
});

test('the logger redacts anything shaped like a personal code, in the message, fields and child fields', () => {
  const lines: string[] = [];
  const logger = createLogger('debug', (l) => lines.push(l));
  logger.child({ who: '01018015097' }).warn('login of 010180-15097 failed', { detail: { code: '325035-11782' } });
  expect(lines).toHaveLength(1);
  expect(lines[0]).not.toMatch(/010180|15097|325035/);
  expect(JSON.parse(lines[0]!)).toMatchObject({
    level: 'warn',
    msg: 'login of [redacted] failed',
    who: '[redacted]',
    detail: { code: '[redacted]' },
  });
});

// the ID token's sub of an Estonian or Lithuanian person (Smart-ID's usual user) has eleven digits after the
// hyphen, and a Latvian code may come without its own: each is still the person's code
test('the logger redacts semantics identifiers of every form: EE/LT eleven digits, LV without its hyphen', () => {
  const lines: string[] = [];
  const logger = createLogger('debug', (l) => lines.push(l));
  logger.warn('login of PNOEE-38001085718 failed', { sub: 'PNOLT-38001085718', other: 'PNOLV-01018015097' });
  expect(lines[0]).not.toMatch(/38001085718|01018015097/);
  expect(JSON.parse(lines[0]!)).toMatchObject({
    msg: 'login of [redacted] failed',
    sub: '[redacted]',
    other: '[redacted]',
  });
});

test('the logger honours its level: below it nothing is written', () => {
  const lines: string[] = [];
  const logger = createLogger('warn', (l) => lines.push(l));
  logger.debug('d');
  logger.info('i');
  logger.warn('w');
  logger.error('e', { status: 500 });
  expect(lines.map((l) => JSON.parse(l).level)).toEqual(['warn', 'error']);
  expect(JSON.parse(lines[1]!)).toMatchObject({ msg: 'e', status: 500, time: expect.stringMatching(/Z$/) });
});
