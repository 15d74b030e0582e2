// A built-in mock eID provider that speaks a real redirect protocol: the gateway redirects the browser to
// its authorize page with state and nonce; the user picks a test person; the mock redirects back with a
// compact JWS (ES256) that the adapter verifies like any upstream. Its key lives in the key directory
// (`mock-<id>.key.pem`, created by the first instance), so every instance sharing `keys.dir` verifies what
// any other signed: a login started on one instance finishes on another behind a round-robin balancer.
// It makes the demo work without a bank, and shows the adapter interface in its smallest complete form.
import { randomBytes } from 'node:crypto';
import express, { type Express } from 'express';
import { z } from 'zod';
import { SignJWT, jwtVerify, errors as joseErrors, type JWTPayload } from 'jose';
import { providerBaseSchema } from '../../src/config/provider-base.ts';
import { AdapterConfigError, ProviderError, type ProviderAdapter } from '../../src/broker/adapter.ts';
import type { AdapterCheckContext, AdapterFactory, AdapterProblem } from '../../src/broker/adapter.ts';
import type { CallbackContext, CallbackResult, StartContext, StartResult } from '../../src/broker/adapter.ts';
import { freshAuthTime } from '../../src/broker/freshness.ts';
import type { Loa } from '../../src/identity/loa.ts';
import { html, page } from '../../src/web/html.ts';
import { constantTimeEqual } from '../../src/constant-time.ts';
import { loadOrCreateMockKey, type MockKey } from './key.ts';

export interface MockUser {
  given_name: string;
  family_name: string;
  personal_code: string;
  country?: string;
  amr?: string;
}

// No test person claims a real method (smart_id, id_card…): a service must be able to tell from `amr` alone
// that no Smart-ID or ID card took part, so the mock's logins say `mock` unless a test configures otherwise.
export const DEFAULT_USERS: MockUser[] = [
  { given_name: 'Jānis', family_name: 'Bērziņš', personal_code: '010180-15097' },
  { given_name: 'Anna', family_name: 'Kalniņa', personal_code: '32503511782' },
  { given_name: 'Mari', family_name: 'Maasikas', personal_code: '60001019906', country: 'EE' },
  // refused by the gateway: bad check digit, so a newcomer can see what a rejection looks like
  { given_name: 'Nederīgs', family_name: 'Kods', personal_code: '123456-12345' },
];

export const mockSchema = providerBaseSchema.extend({
  type: z.literal('mock'),
  users: z
    .array(
      z.strictObject({
        given_name: z.string(),
        family_name: z.string(),
        personal_code: z.string(),
        country: z.string().length(2).optional(),
        amr: z.string().optional(),
      }),
    )
    .optional(),
});
export type MockConfig = z.infer<typeof mockSchema>;

const TOKEN_TTL_S = 120;
/** the mock signs on whichever instance of the deployment serves the choice: whole-second rounding and
 * the instances' (NTP-synchronised) clocks separate its iat from the login's start */
const CLOCK_SKEW_S = 5;

/** What the broker keeps for one login: the nonce the signed assertion must carry. */
const mockConnDataSchema = z.strictObject({ nonce: z.string() });
type MockConnData = z.infer<typeof mockConnDataSchema>;

export class MockAdapter implements ProviderAdapter<MockConnData> {
  readonly kind = 'mock';
  readonly id: string;
  readonly maxLoa: Loa;
  readonly connDataSchema = mockConnDataSchema;
  private readonly users: MockUser[];
  private readonly baseUrl: string;
  private readonly name: string;
  private keys!: MockKey;

  constructor(config: MockConfig, baseUrl: string) {
    this.id = config.id;
    this.maxLoa = config.loa;
    this.users = config.users ?? DEFAULT_USERS;
    this.baseUrl = baseUrl.replace(/\/$/, '');
    this.name = config.name.en;
  }

  async init(keyDir: string): Promise<this> {
    this.keys = await loadOrCreateMockKey(keyDir, this.id);
    return this;
  }

  private get issuer(): string {
    return `${this.baseUrl}/providers/${this.id}`;
  }

  async start(ctx: StartContext): Promise<StartResult<MockConnData>> {
    const nonce = randomBytes(16).toString('base64url');
    const url = new URL(`${this.issuer}/authorize`);
    url.search = new URLSearchParams({
      state: ctx.state,
      nonce,
      redirect_uri: ctx.callbackUrl,
      acr: ctx.acr ?? this.maxLoa,
      ui_locales: ctx.locale,
    }).toString();
    return { action: { type: 'redirect', url: url.toString() }, connData: { nonce } };
  }

  stateFrom(params: Record<string, string>): string | undefined {
    return params.state;
  }

  async callback(ctx: CallbackContext<MockConnData>): Promise<CallbackResult> {
    const { params } = ctx;
    if (params.error === 'user_cancel') throw new ProviderError('user_cancel', 'user cancelled at the mock provider');
    if (params.error === 'temporarily_unavailable')
      throw new ProviderError('temporarily_unavailable', 'mock provider reported an outage');
    if (params.error)
      throw new ProviderError('access_denied', `mock provider error ${String(params.error).slice(0, 50)}`);
    if (!params.assertion || params.assertion.length > 8192)
      throw new ProviderError('invalid_response', 'missing or oversized assertion');
    const { nonce } = ctx.connData;
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(params.assertion, this.keys.publicKey, {
        algorithms: ['ES256'],
        issuer: this.issuer,
        audience: ctx.callbackUrl,
        maxTokenAge: TOKEN_TTL_S,
      }));
    } catch (err) {
      const reason = err instanceof joseErrors.JOSEError ? err.code : 'malformed';
      throw new ProviderError('invalid_response', `assertion rejected: ${reason}`);
    }
    if (typeof payload.nonce !== 'string' || !constantTimeEqual(payload.nonce, nonce))
      throw new ProviderError('invalid_response', 'nonce mismatch');
    // the mock signs the moment the person chose: its signed iat is when they authenticated
    const authTime = freshAuthTime(
      typeof payload.iat === 'number' ? payload.iat * 1000 : undefined,
      ctx,
      { clockSkewSeconds: CLOCK_SKEW_S },
      'assertion iat',
    );
    return {
      identity: {
        givenName: payload.given_name as string | undefined,
        familyName: payload.family_name as string | undefined,
        personalCode: payload.personal_code as string | undefined,
        country: (payload.country as string | undefined) ?? 'LV',
        loa: this.maxLoa,
        amr: [String(payload.amr ?? 'mock')],
        authTime,
      },
    };
  }

  /** The mock provider's own pages, as an upstream would serve them. */
  routes(app: Express, basePath: string): void {
    const router = express.Router();
    const str = (v: unknown) => (typeof v === 'string' ? v : '');
    router.get('/authorize', (req, res) => {
      const query = {
        state: str(req.query.state),
        nonce: str(req.query.nonce),
        redirect_uri: str(req.query.redirect_uri),
      };
      // the mock only ever sends users back to this gateway's own callback
      if (!query.state || !query.nonce || !query.redirect_uri.startsWith(`${this.baseUrl}/`)) {
        res.status(400).type('text/plain').send('Invalid request to the mock provider');
        return;
      }
      const hidden = html`<input type="hidden" name="state" value="${query.state}"><input type="hidden" name="nonce" value="${query.nonce}"><input type="hidden" name="redirect_uri" value="${query.redirect_uri}">`;
      res.type('html').send(
        page(
          `${this.name}`,
          html`<h1>${this.name}</h1><p class="muted">Demo provider: choose a test person.</p>
<ul class="providers">${this.users.map((u, i) => html`<li><form method="post" action="${basePath}/decide">${hidden}<input type="hidden" name="user" value="${i}"><button class="primary" type="submit">${u.given_name} ${u.family_name} (${u.country ?? 'LV'} ${u.personal_code})</button></form></li>`)}</ul>
<form method="post" action="${basePath}/decide">${hidden}<input type="hidden" name="user" value="cancel"><button type="submit">Atcelt / Cancel</button></form>
<form method="post" action="${basePath}/decide">${hidden}<input type="hidden" name="user" value="outage"><button type="submit">Simulate an outage</button></form>`,
          { lang: 'en' },
        ),
      );
    });
    router.post('/decide', express.urlencoded({ extended: false, limit: '8kb' }), async (req, res) => {
      const body = (req.body ?? {}) as Record<string, unknown>;
      const state = str(body.state);
      const redirect = str(body.redirect_uri);
      if (!state || !redirect.startsWith(`${this.baseUrl}/`)) {
        res.status(400).type('text/plain').send('Invalid request to the mock provider');
        return;
      }
      const back = new URL(redirect);
      back.searchParams.set('state', state);
      const user = this.users[Number(str(body.user))];
      if (str(body.user) === 'outage') {
        back.searchParams.set('error', 'temporarily_unavailable');
      } else if (str(body.user) === 'cancel' || !user) {
        back.searchParams.set('error', 'user_cancel');
      } else {
        const assertion = await new SignJWT({ ...user, nonce: str(body.nonce) })
          .setProtectedHeader({ alg: 'ES256' })
          .setIssuer(this.issuer)
          .setAudience(redirect)
          .setIssuedAt()
          .setExpirationTime(`${TOKEN_TTL_S}s`)
          .sign(this.keys.privateKey);
        back.searchParams.set('assertion', assertion);
      }
      res.redirect(303, back.toString());
    });
    app.use(basePath, router);
  }
}

/** Anyone may log in as any configured person through the mock: it exists for development only. */
export function checkMock(_config: MockConfig, ctx: AdapterCheckContext): AdapterProblem[] {
  return ctx.production
    ? [{ path: ['type'], message: 'the mock provider lets anyone log in as its test persons; refused in production' }]
    : [];
}

export const factory: AdapterFactory<MockConfig> = {
  kind: 'mock',
  schema: mockSchema,
  /** the mock's pages are served by the gateway itself; nothing is called server to server */
  backChannels: () => [],
  check: checkMock,
  create: (config, deps) => {
    const problems = checkMock(config, deps);
    if (problems.length) throw new AdapterConfigError(config.id, problems);
    return new MockAdapter(config, deps.baseUrl).init(deps.keyDir);
  },
};
