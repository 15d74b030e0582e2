// Each upstream OIDC login is bound to its own request, through the broker against the real test OP
// (./test-op-adapters.ts): each start draws its own state, nonce and PKCE verifier, and an answer without
// RFC 9207 `iss` is refused even from an upstream whose static metadata does not advertise it.
import { TEST_BROWSER } from '../../test/support/broker.ts';
import type { OidcAdapter } from './index.ts';
import { EIDAS } from './test-op/index.ts';
import { loginAtTestOp } from './test-logins.ts';
import { adapterFor, brokerOf, CALLBACK, logger, refused, SUBJECT, upstream, useTestOp } from './test-op-adapters.ts';

useTestOp();

/** One login at eIDAS high through the broker, its answer's parameters rewritten by `edit` if given. */
async function login(adapter: OidcAdapter, edit?: (params: Record<string, string>) => void) {
  const choice = { acr: EIDAS.high };
  return (
    await loginAtTestOp(upstream.op, adapter, {
      callbackUrl: CALLBACK,
      logger,
      choice,
      locale: 'en',
      ...(edit ? { edit } : {}),
    })
  ).result;
}

describe('each login is bound to its own request', () => {
  let adapter: OidcAdapter;
  beforeAll(async () => {
    adapter = await adapterFor('client_secret');
  });
  afterAll(async () => {
    await adapter?.close();
  });

  test('two starts of one provider draw different states, nonces and PKCE verifiers', async () => {
    const { store, states, broker } = brokerOf(adapter);
    try {
      const seen = [];
      for (const uid of ['a', 'b']) {
        const { state, action } = await broker.begin({
          browser: TEST_BROWSER,
          uid,
          clientId: 'svc',
          providerId: adapter.id,
          locale: 'en',
          correlationId: uid,
        });
        const url = new URL((action as { url: string }).url);
        const conn = (await states.take(state))!.connData as { state: string; nonce: string; verifier: string };
        expect(url.searchParams.get('state')).toBe(state);
        expect(url.searchParams.get('nonce')).toBe(conn.nonce);
        seen.push({
          state,
          nonce: conn.nonce,
          verifier: conn.verifier,
          challenge: url.searchParams.get('code_challenge'),
        });
      }
      const [a, b] = seen as [(typeof seen)[0], (typeof seen)[0]];
      expect(a.state).not.toBe(b.state);
      expect(a.nonce).not.toBe(b.nonce);
      expect(a.verifier).not.toBe(b.verifier);
      expect(a.challenge).not.toBe(b.challenge);
      for (const v of [a.nonce, a.verifier, b.nonce, b.verifier]) expect(v.length).toBeGreaterThanOrEqual(43); // 256 random bits
    } finally {
      await store.close();
    }
  });

  test('static metadata that does not advertise RFC 9207: an authorization response without iss is still refused', async () => {
    const statics = await adapterFor('client_secret', {
      metadata: {
        authorization_endpoint: `${upstream.op.issuer}/auth`,
        token_endpoint: `${upstream.op.issuer}/token`,
        jwks_uri: `${upstream.op.issuer}/jwks`,
      },
    });
    try {
      // the same upstream with iss in its answer is accepted, so only the missing iss is refused below
      await expect(login(statics)).resolves.toMatchObject({ identity: { subject: SUBJECT } });
      refused(await login(statics, (params) => delete params.iss), 'invalid_response', /lacks iss \(RFC 9207\)/);
    } finally {
      await statics.close();
    }
  });
});
