// What the core makes of an adapter kind's declarations: a kind registered without `backChannels` is
// taken to have one, so production refuses it without mutual TLS, naming the path; a kind's own rules
// come back with their full paths; stored connData that does not fit the adapter's schema is refused as
// invalid_response before the adapter sees it.
import { describe, expect, test } from '@jest/globals';
import { stringify } from 'yaml';
import { z } from 'zod';
import { runCallback, type AdapterFactory, type ProviderAdapter } from '../../src/broker/adapter.ts';
import { configFindings } from '../../src/config/check.ts';
import { isEntryOf, parseConfig } from '../../src/config/load.ts';
import { providerBaseSchema } from '../../src/config/provider-base.ts';

const fakeSchema = providerBaseSchema.extend({ type: z.literal('carrier'), token_url: z.url() });
type FakeConfig = z.infer<typeof fakeSchema>;

const fakeAdapter = (id: string): ProviderAdapter<{ nonce: string }> => ({
  id,
  kind: 'carrier',
  maxLoa: 'substantial',
  connDataSchema: z.strictObject({ nonce: z.string() }),
  start: async () => ({ action: { type: 'redirect', url: 'https://carrier.example/' }, connData: { nonce: 'n' } }),
  stateFrom: (params) => params.state,
  callback: async (ctx) => ({
    identity: {
      personalCode: '010180-15097',
      givenName: ctx.connData.nonce,
      loa: 'substantial',
      amr: ['x'],
      authTime: 0,
    },
  }),
});

/** A kind that declares nothing but its schema, its rules and how to open it. */
const silent: AdapterFactory<FakeConfig> = {
  kind: 'carrier',
  schema: fakeSchema,
  check: (config, ctx) =>
    ctx.production && !config.token_url.startsWith('https:')
      ? [{ path: ['token_url'], message: 'must be https in production' }]
      : [],
  create: (config) => fakeAdapter(config.id),
};

function load(factory: AdapterFactory<FakeConfig>, entry: Record<string, unknown>) {
  const doc = {
    issuer: 'https://vpm.example.lv',
    production: true,
    proxy: ['10.0.0.5'],
    cookie_keys: ['k'.repeat(40)],
    clients: [{ client_id: 'svc', client_secret: 's'.repeat(40), redirect_uris: ['https://svc.example.lv/cb'] }],
    providers: [
      {
        id: 'pigeon',
        type: 'carrier',
        name: { lv: 'Balodis', en: 'Pigeon' },
        kind: 'eid',
        loa: 'substantial',
        onboarding: {
          stage: 'production',
          free_of_charge: true,
          two_factor: true,
          eid_register: { entry: 'x', qualified: true },
        },
        token_url: 'https://carrier.example/token',
        ...entry,
      },
    ],
  };
  return parseConfig(stringify(doc), 'x.yaml', { factories: new Map([[factory.kind, factory]]), env: {} });
}

describe('a registered kind in production', () => {
  test('declaring nothing about back channels, it needs mutual TLS: refused with the path', async () => {
    const { errors } = await configFindings(load(silent, {}), { env: {} });
    expect(errors).toEqual(['providers[0].tls: a provider with a back channel needs mutual TLS in production']);
  });

  test('declaring a back channel, it needs mutual TLS too; declaring none, it passes', async () => {
    const declared = { ...silent, backChannels: () => [['token_url']] };
    expect((await configFindings(load(declared, {}), { env: {} })).errors).toEqual([
      'providers[0].tls: a provider with a back channel needs mutual TLS in production',
    ]);
    const browserOnly = { ...silent, backChannels: () => [] };
    expect((await configFindings(load(browserOnly, {}), { env: {} })).errors).toEqual([]);
  });

  test("its own rules come back with the entry's path", async () => {
    const browserOnly = { ...silent, backChannels: () => [] };
    const config = load(browserOnly, { token_url: 'http://carrier.example/token' });
    expect((await configFindings(config, { env: {} })).errors).toEqual([
      'providers[0].token_url: must be https in production',
    ]);
  });

  test('the loaded entry carries the parsed type of its kind', () => {
    const [entry] = load(silent, {}).providers;
    expect(entry && isEntryOf(entry, silent) && entry.config.token_url).toBe('https://carrier.example/token');
  });
});

describe('connData is parsed with the adapter schema before callback()', () => {
  const ctx = (connData: unknown) => ({
    params: { state: 's' },
    method: 'GET' as const,
    connData,
    callbackUrl: 'https://vpm.example.lv/broker/callback/pigeon',
    correlationId: 'c',
    loginStartedAt: Date.now(),
    authenticatedNotBefore: undefined,
  });

  test('data that fits reaches the adapter, typed', async () => {
    const result = await runCallback(fakeAdapter('pigeon'), ctx({ nonce: 'abc' }));
    expect(result.identity.givenName).toBe('abc');
  });

  test('data that does not fit is refused as invalid_response', async () => {
    for (const stored of [undefined, { nonce: 1 }, { nonce: 'abc', extra: true }, 'abc'])
      await expect(runCallback(fakeAdapter('pigeon'), ctx(stored))).rejects.toMatchObject({
        name: 'ProviderError',
        code: 'invalid_response',
        detail: 'login carries no carrier request data',
      });
  });
});
