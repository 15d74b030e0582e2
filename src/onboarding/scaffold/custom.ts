// The provider folder `providers scaffold --kind custom NAME` writes: a factory with its config schema,
// an adapter for a signed browser protocol (a redirect to the provider; its answer, the identity and an
// HMAC-SHA256 over it keyed by a secret shared with the provider, comes back as a form the browser posts,
// never in a URL), a test peer speaking that protocol, and the conformance test. `gateway` is the
// gateway's directory: the folder may live outside it and still run its tests.
import { customTestSideFiles } from './custom-test-side.ts';

export function customProviderFiles(name: string, gateway: string): Record<string, string> {
  // string literals as the gateway's formatter writes them (single quotes), so the files pass `biome ci`
  const q = (text: string) => `'${text.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
  const at = (path: string) => q(`${gateway}/${path}`);
  const className = name.replace(/(^|-)([a-z0-9])/g, (_m, _d, c: string) => c.toUpperCase());
  const signing = `// The protocol: the gateway redirects the browser to the provider's login page with state, nonce and
// return (its callback URL) in the query; the provider answers with a page whose form the browser posts
// to return at once. The answer names the person (given name, surname and personal code in separate
// fields, as the VPM joining conditions ask), so it travels in that POST body, never in a URL: browser
// history and the access logs of every proxy and of the gateway would keep it, and the gateway keeps no
// personal code in its logs.
// The signature: HMAC-SHA256, keyed by the shared secret, over the answer's fields in a fixed order, so
// neither the browser nor anyone on the way can change a field.
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
  const adapter = `// ${name}: the gateway side of the provider's signed protocol (see ./protocol.ts).
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
import { freshAuthTime } from ${at('src/broker/freshness.ts')};
import { constantTimeEqual } from ${at('src/constant-time.ts')};
import type { ${className}Config } from './index.ts';
import { sign } from './protocol.ts';

const connData = z.strictObject({ nonce: z.string() });
type ConnData = z.infer<typeof connData>;
/** how far the provider's clock may be from ours, either way */
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

  // the selection page's form posts the choice to the gateway, which redirects to the provider: browsers
  // hold that redirect to the page's CSP form-action, so the provider's origin must be listed there
  formActionOrigins(): string[] {
    return [new URL(this.config.url).origin];
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
    // the answer names the person: taken from a posted form only, never from a URL, even when signed
    if (ctx.method !== 'POST') throw new ProviderError('invalid_response', 'answer must arrive by POST');
    const p = ctx.params;
    if (p.error === 'cancel') throw new ProviderError('user_cancel', 'the user cancelled at the provider');
    if (p.error) throw new ProviderError('access_denied', \`provider error \${p.error.slice(0, 40)}\`);
    if (!p.signature || !constantTimeEqual(p.signature, sign(this.config.secret, p)))
      throw new ProviderError('invalid_response', 'signature does not verify');
    if (!p.nonce || !constantTimeEqual(p.nonce, ctx.connData.nonce))
      throw new ProviderError('invalid_response', 'nonce of another login');
    // the gateway promises a fresh authentication: an auth_time before this login started is an older one
    // (a replay, or the provider's session of whoever used the browser before), however valid its signature
    const authTime = freshAuthTime(Number(p.auth_time) * 1000, ctx, { clockSkewSeconds: CLOCK_SKEW_S }, 'auth_time');
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
import { secretSchema } from ${at('src/config/secret.ts')};
import type { AdapterFactory } from ${at('src/registry/factory.ts')};
import { ${className}Adapter } from './adapter.ts';

export const schema = providerBaseSchema.extend({
  type: z.literal(${q(name)}),
  /** the provider's login page */
  url: z.url({ protocol: /^https?$/ }),
  /** the secret shared with the provider that keys its answers' HMAC: a string, { env: NAME } or { file: PATH } */
  secret: secretSchema.pipe(z.string().min(32, 'secret must be at least 32 characters')),
});
export type ${className}Config = z.infer<typeof schema>;

export const factory: AdapterFactory<${className}Config> = {
  kind: ${q(name)},
  schema,
  // the answer travels through the browser, signed and posted: no server-to-server channel
  backChannels: () => [],
  check: (config, ctx) =>
    ctx.production && !config.url.startsWith('https:')
      ? [{ path: ['url'], message: 'must be https in production' }]
      : [],
  create: (config) => new ${className}Adapter(config),
};
`;
  const { peer, test } = customTestSideFiles(name, q, at);
  return {
    'protocol.ts': signing,
    'adapter.ts': adapter,
    'index.ts': index,
    'test-peer.ts': peer,
    [`${name}.test.ts`]: test,
  };
}
