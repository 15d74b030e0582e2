// Logins through the upstream OIDC adapter against the test OP over HTTPS, in each way the gateway
// authenticates to it, the adapter conformance suite, and the OP's key rotation (./test-op-adapters.ts).
import { exportJWK, generateKeyPair, calculateJwkThumbprint } from 'jose';
import { jest } from '@jest/globals';
import { adapterConformance, type AdapterHarness } from '../../test/support/adapter-conformance.ts';
import type { BrokerError } from '../../src/login/broker-error.ts';
import { setClock } from '../../test/support/clock.ts';
import { EIDAS, type LoginChoice } from './test-op/index.ts';
import {
  useTestOp,
  upstream,
  logger,
  adapterFor,
  toCallback,
  login,
  forge,
  refused,
  CALLBACK,
  SUBJECT,
  VARIANTS,
} from './test-op-adapters.ts';

useTestOp();

describe('logins against the test OP over HTTPS', () => {
  test.each(VARIANTS)('%s: a valid login yields the verified identity', async (variant) => {
    const adapter = await adapterFor(variant);
    try {
      const result = await login(adapter, { acr: EIDAS.high, amr: ['smart_card'] }, 'high');
      if (result instanceof Error) throw new Error(`login failed: ${result.message}`);
      const { identity } = result as Exclude<typeof result, BrokerError>;
      expect(identity).toMatchObject({
        subject: SUBJECT,
        givenName: 'Jānis',
        familyName: 'Bērziņš',
        country: 'LV',
        loa: 'high',
        amr: ['smart_card'],
        idp: 'test-eid',
      });
    } finally {
      await adapter.close();
    }
  });
});

for (const variant of ['client_secret', 'encrypted'] as const) {
  adapterConformance(`oidc (${variant})`, async (): Promise<AdapterHarness> => {
    const adapter = await adapterFor(variant);
    return {
      adapter,
      callbackUrl: CALLBACK,
      expectedSubject: SUBJECT,
      async drive(action, outcome) {
        if (action.type !== 'redirect') throw new Error('the oidc adapter starts with a redirect');
        const choice: LoginChoice =
          outcome === 'cancel'
            ? { error: { error: 'access_denied', error_description: 'End-User aborted interaction' } }
            : { acr: EIDAS.high };
        return toCallback(await upstream.op.login(action.url, choice));
      },
      withState: (cb, state) => ({ ...cb, params: { ...cb.params, state } }),
      teardown: () => adapter.close(),
    };
  });
}

describe('JWKS rotation (openid-client: refetch on an unknown kid, at most once a minute)', () => {
  test('a token under a new key is refused while the JWKS cache is fresh, and accepted once a refetch is allowed', async () => {
    const adapter = await adapterFor('client_secret');
    try {
      await expect(login(adapter)).resolves.toMatchObject({ identity: { subject: SUBJECT } }); // caches the JWKS
      const { privateKey } = await generateKeyPair('RS256', { modulusLength: 2048, extractable: true });
      const rotated = await exportJWK(privateKey);
      rotated.kid = await calculateJwkThumbprint(rotated);
      const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...rotatedPublic } = rotated;
      upstream.op.tamper.jwks = () => ({ keys: [...upstream.op.jwks.keys, rotatedPublic] });
      upstream.op.tamper.idToken = (claims) => forge(claims, rotated, { key: privateKey, kid: rotated.kid });
      // unknown kid, cache younger than a minute: no refetch storm, the answer is refused
      refused(await login(adapter), 'invalid_response', /key/);
      // a minute later (only the clock moves; sockets and timers stay real) the unknown kid triggers one refetch
      setClock(Date.now() + 61_000);
      try {
        await expect(login(adapter)).resolves.toMatchObject({ identity: { subject: SUBJECT } });
      } finally {
        jest.useRealTimers();
      }
    } finally {
      delete upstream.op.tamper.jwks;
      await adapter.close();
    }
  });
});

test('application logs carry no personal code, name or token', () => {
  const all = logger.lines.join('\n');
  expect(all).not.toMatch(/010180|Bērziņš|eyJ/);
});
