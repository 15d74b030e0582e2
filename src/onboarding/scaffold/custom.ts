// The provider folder `providers scaffold --kind custom NAME` writes: a factory with its config schema,
// an adapter for a signed redirect protocol (the answer carries the identity and an HMAC-SHA256 over it,
// keyed by a secret shared with the provider), a test peer speaking that protocol, and the conformance
// test. `gateway` is the gateway's directory: the folder may live outside it and still run its tests.
export function customProviderFiles(name: string, gateway: string): Record<string, string> {
  // string literals as the gateway's formatter writes them (single quotes), so the files pass `biome ci`
  const q = (text: string) => `'${text.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
  const at = (path: string) => q(`${gateway}/${path}`);
  const className = name.replace(/(^|-)([a-z0-9])/g, (_m, _d, c: string) => c.toUpperCase());
  const signing = `// The protocol's signature: HMAC-SHA256, keyed by the shared secret, over the answer's fields in a
// fixed order, so neither the browser nor anyone on the way can change a field.
import { createHmac } from 'node:crypto';

export const SIGNED_FIELDS = [
  'state',
  'nonce',
  'given_name',
  'family_name',
  'personal_code',
  'country',
  'auth_time',
] as const;

export function sign(secret: string, fields: Record<string, string | undefined>): string {
  const text = SIGNED_FIELDS.map((f) => \`\${f}=\${fields[f] ?? ''}\`).join('\\n');
  return createHmac('sha256', secret).update(text).digest('base64url');
}
`;
  const adapter = `// ${name}: the gateway side of the provider's signed redirect protocol (see ./protocol.ts).
import { randomBytes } from 'node:crypto';
import { z } from ${at('node_modules/zod/index.js')};
import {
  ProviderError,
  type CallbackContext,
  type CallbackResult,
  type ProviderAdapter,
  type StartContext,
  type StartResult,
} from ${at('src/broker/adapter.ts')};
import { constantTimeEqual } from ${at('src/constant-time.ts')};
import type { ${className}Config } from './index.ts';
import { sign } from './protocol.ts';

const connData = z.strictObject({ nonce: z.string() });
type ConnData = z.infer<typeof connData>;
/** how far the provider's clock may run ahead of ours */
const CLOCK_SKEW_S = 30;

export class ${className}Adapter implements ProviderAdapter<ConnData> {
  readonly kind = ${q(name)};
  readonly connDataSchema = connData;
  readonly id: string;
  readonly maxLoa: ${className}Config['loa'];
  private readonly config: ${className}Config;

  constructor(config: ${className}Config) {
    this.config = config;
    this.id = config.id;
    this.maxLoa = config.loa;
  }

  async start(ctx: StartContext): Promise<StartResult<ConnData>> {
    const nonce = randomBytes(16).toString('base64url');
    const url = new URL(this.config.url);
    url.searchParams.set('state', ctx.state);
    url.searchParams.set('nonce', nonce);
    url.searchParams.set('return', ctx.callbackUrl);
    return { action: { type: 'redirect', url: url.href }, connData: { nonce } };
  }

  stateFrom(params: Record<string, string>): string | undefined {
    return params.state;
  }

  async callback(ctx: CallbackContext<ConnData>): Promise<CallbackResult> {
    const p = ctx.params;
    if (p.error === 'cancel') throw new ProviderError('user_cancel', 'the user cancelled at the provider');
    if (p.error) throw new ProviderError('access_denied', \`provider error \${p.error.slice(0, 40)}\`);
    if (!p.signature || !constantTimeEqual(p.signature, sign(this.config.secret, p)))
      throw new ProviderError('invalid_response', 'signature does not verify');
    if (!p.nonce || !constantTimeEqual(p.nonce, ctx.connData.nonce))
      throw new ProviderError('invalid_response', 'nonce of another login');
    const authTime = Number(p.auth_time);
    if (!Number.isInteger(authTime) || authTime * 1000 > Date.now() + CLOCK_SKEW_S * 1000)
      throw new ProviderError('invalid_response', 'auth_time missing or in the future');
    return {
      identity: {
        givenName: p.given_name,
        familyName: p.family_name,
        personalCode: p.personal_code,
        country: p.country,
        loa: this.config.loa,
        amr: ['app'],
        authTime,
      },
    };
  }
}
`;
  const index = `// ${name}: an adapter kind of the VPM gateway (docs/adapters.md). Register \`factory\` in
// src/registry/adapters.ts to use it.
import { z } from ${at('node_modules/zod/index.js')};
import { providerBaseSchema } from ${at('src/config/provider-base.ts')};
import type { AdapterFactory } from ${at('src/registry/factory.ts')};
import { ${className}Adapter } from './adapter.ts';

export const schema = providerBaseSchema.extend({
  type: z.literal(${q(name)}),
  /** the provider's login page */
  url: z.url({ protocol: /^https?$/ }),
  /** the secret shared with the provider that keys its answers' HMAC */
  secret: z.string().min(32),
});
export type ${className}Config = z.infer<typeof schema>;

export const factory: AdapterFactory<${className}Config> = {
  kind: ${q(name)},
  schema,
  // the answer travels through the browser, signed: no server-to-server channel
  backChannels: () => [],
  check: (config, ctx) =>
    ctx.production && !config.url.startsWith('https:')
      ? [{ path: ['url'], message: 'must be https in production' }]
      : [],
  create: (config) => new ${className}Adapter(config),
};
`;
  const peer = `// A test peer for ${name}: the provider's side of the protocol, on a real HTTP port. It signs in the
// test person at once (or reports a cancel when asked with choice=cancel).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { sign } from './protocol.ts';

export const TEST_PERSON = {
  given_name: 'JĀNIS',
  family_name: 'BĒRZIŅŠ',
  personal_code: '010180-15097',
  country: 'LV',
};

export async function startPeer(secret: string): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://peer');
    const back = new URL(url.searchParams.get('return') ?? 'http://invalid/');
    const state = url.searchParams.get('state') ?? '';
    if (url.searchParams.get('choice') === 'cancel') {
      back.searchParams.set('state', state);
      back.searchParams.set('error', 'cancel');
    } else {
      const fields = {
        state,
        nonce: url.searchParams.get('nonce') ?? '',
        ...TEST_PERSON,
        auth_time: String(Math.floor(Date.now() / 1000)),
      };
      for (const [k, v] of Object.entries(fields)) back.searchParams.set(k, v);
      back.searchParams.set('signature', sign(secret, fields));
    }
    res.writeHead(302, { location: back.href, connection: 'close' }).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: \`http://127.0.0.1:\${(server.address() as AddressInfo).port}/authorize\`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
`;
  const test = `// ${name} against the gateway's adapter conformance suite, with its test peer playing the provider.
import { adapterConformance } from ${at('test/support/adapter-conformance.ts')};
import { factory } from './index.ts';
import { startPeer } from './test-peer.ts';

const SECRET = 'a-secret-shared-with-the-test-peer-0123456789';
const CALLBACK = 'https://gateway.example.lv/broker/callback/${name}';

adapterConformance(${q(name)}, async () => {
  const peer = await startPeer(SECRET);
  const config = factory.schema.parse({
    id: ${q(name)},
    type: ${q(name)},
    name: { lv: ${q(name)}, en: ${q(name)} },
    kind: 'eid',
    loa: 'high',
    url: peer.url,
    secret: SECRET,
  });
  const adapter = await factory.create(config, undefined as never);
  return {
    adapter,
    callbackUrl: CALLBACK,
    async drive(action, outcome) {
      const url = new URL(action.url);
      if (outcome === 'cancel') url.searchParams.set('choice', 'cancel');
      const res = await fetch(url, { redirect: 'manual' });
      const back = new URL(res.headers.get('location')!);
      return { method: 'GET', params: Object.fromEntries(back.searchParams) };
    },
    withState: (callback, state) => ({ ...callback, params: { ...callback.params, state } }),
    expectedSubject: 'PNOLV-010180-15097',
    teardown: () => peer.close(),
  };
});
`;
  return {
    'protocol.ts': signing,
    'adapter.ts': adapter,
    'index.ts': index,
    'test-peer.ts': peer,
    [`${name}.test.ts`]: test,
  };
}
