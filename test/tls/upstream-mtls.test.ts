// Upstream tls_client_auth end to end through the whole gateway: two test eIDs (node-oidc-provider over
// HTTPS, each with its own CA) accept the gateway only by RFC 8705 tls_client_auth, so a login works
// only when the gateway's back channel to that provider presents the certificate configured for it.
// Each OP records which client certificate authenticated at its token endpoint. A third OP follows
// RFC 8705 §5 as the gateway's own `server.mtls` does: its issuer listener never asks for a client
// certificate; a second listener that does serves token, userinfo and PAR, published as
// `mtls_endpoint_aliases`, and only there can the gateway authenticate.
import { describe, test, expect, beforeAll } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { startTestOp, EIDAS, type TestOp } from '../../providers/oidc/test-op/index.ts';
import {
  makeGatewayKeyFiles,
  providerEntry,
  testOpClient,
  type GatewayKeyFiles,
} from '../../providers/oidc/test-op/fixtures.ts';
import { useGateway, beginLogin, atRp, claimsOf } from '../support/gateway.ts';

interface TokenCall {
  outcome: 'success' | 'error';
  client?: string;
  certificate?: string;
  error?: string;
  /** at an OP with mutual-TLS aliases: the listener the request came in on */
  listener?: 'issuer' | 'alias';
}

let keys: GatewayKeyFiles;
let opA: TestOp, opB: TestOp, opAliases: TestOp;
const calls = new Map<TestOp, TokenCall[]>();

const fingerprintOfFile = (path: string) => new X509Certificate(readFileSync(path)).fingerprint256;

/** Record, at the OP, the client certificate each token request came with (the TLS socket's own view). */
function recordTokenCalls(op: TestOp): void {
  const seen: TokenCall[] = [];
  calls.set(op, seen);
  const aliasPort = op.mtlsAliasOrigin ? Number(new URL(op.mtlsAliasOrigin).port) : undefined;
  const connection = (ctx: KoaContextWithOIDC) => {
    const socket = ctx.req.socket as TLSSocket;
    const peer = socket.getPeerCertificate?.();
    return {
      client: ctx.oidc.client?.clientId,
      certificate: peer?.raw ? new X509Certificate(peer.raw).fingerprint256 : undefined,
      ...(aliasPort ? { listener: socket.localPort === aliasPort ? ('alias' as const) : ('issuer' as const) } : {}),
    };
  };
  op.provider.on('grant.success', (ctx: KoaContextWithOIDC) => seen.push({ outcome: 'success', ...connection(ctx) }));
  op.provider.on('grant.error', (ctx: KoaContextWithOIDC, err: Error & { error?: string }) =>
    seen.push({ outcome: 'error', ...connection(ctx), error: err.error }),
  );
}

const gw = useGateway(async ({ dir, cleanup }) => {
  keys = await makeGatewayKeyFiles(dir);
  [opA, opB, opAliases] = await Promise.all([startTestOp({}), startTestOp({}), startTestOp({ mtlsAliases: true })]);
  for (const op of [opA, opB, opAliases]) {
    cleanup(() => op.close());
    recordTokenCalls(op);
  }
  // sanity: two different CAs, two different gateway client certificates
  expect(fingerprintOfFile(opA.tls!.cert)).not.toBe(fingerprintOfFile(opB.tls!.cert));
  const entry = (op: TestOp, id: string) => ({
    ...providerEntry(op, 'tls_client_auth', keys, id),
    client_id: `${id}-client`,
  });
  return {
    providers: [
      entry(opA, 'eid-a'),
      entry(opB, 'eid-b'),
      // wired wrongly on purpose: OP A, but with the client certificate and key meant for OP B
      { ...entry(opA, 'eid-crossed'), tls: { ca: opA.tls!.ca, cert: opB.tls!.cert, key: opB.tls!.key } },
      entry(opAliases, 'eid-aliases'),
    ],
  };
});

beforeAll(() => {
  // the upstream clients require tls_client_auth with the gateway's certificate subject
  for (const [op, id] of [
    [opA, 'eid-a'],
    [opB, 'eid-b'],
    [opA, 'eid-crossed'],
    [opAliases, 'eid-aliases'],
  ] as const) {
    op.addClient({
      ...testOpClient('tls_client_auth', `${gw.issuer}/broker/callback/${id}`, keys, op.tls!.clientSubjectDn),
      client_id: `${id}-client`,
    });
  }
});

/** Agency service -> gateway -> test eID -> gateway -> agency service. */
async function loginVia(providerId: string, op: TestOp) {
  const started = await beginLogin(gw.rp, { idp_hint: providerId, ui_locales: 'en' });
  const toOp = await started.browser.follow(started.hop, (h) => !!h.location?.startsWith(op.issuer));
  const back = await op.login(toOp.location!, { acr: EIDAS.high });
  expect(`${back.origin}${back.pathname}`).toBe(`${gw.issuer}/broker/callback/${providerId}`);
  const landing = await started.browser.get(back.href);
  const final = await started.browser.follow(landing, atRp).catch(() => undefined);
  return { started, landing, final };
}

describe('upstream tls_client_auth over mutual TLS, one certificate per provider', () => {
  test.each([
    ['eid-a', () => opA],
    ['eid-b', () => opB],
  ] as const)(
    "%s: the login succeeds, and the OP authenticated the gateway by that provider's own certificate",
    async (providerId, opOf) => {
      const op = opOf();
      const before = calls.get(op)!.length;
      const l = await loginVia(providerId, op);
      expect(await claimsOf(gw.rp, l.started, l.final!)).toMatchObject({
        personal_code: '010180-15097',
        acr: 'high',
        idp: providerId,
      });

      const configured = fingerprintOfFile(op.tls!.cert);
      expect(calls.get(op)!.slice(before)).toEqual([
        { outcome: 'success', client: `${providerId}-client`, certificate: configured },
      ]);
    },
  );

  test("each OP only ever saw its own provider's certificate at its token endpoint", () => {
    const a = fingerprintOfFile(opA.tls!.cert);
    const b = fingerprintOfFile(opB.tls!.cert);
    expect(calls.get(opB)!.every((c) => c.certificate === b)).toBe(true);
    expect(
      calls
        .get(opA)!
        .filter((c) => c.client === 'eid-a-client')
        .every((c) => c.certificate === a),
    ).toBe(true);
  });

  test("a provider configured with another provider's certificate is refused by the OP: no code reaches the agency service", async () => {
    const before = calls.get(opA)!.length;
    const l = await loginVia('eid-crossed', opA);
    if (l.final?.location && atRp(l.final)) expect(new URL(l.final.location).searchParams.get('code')).toBeNull();
    // OP A received B's certificate (not issued by A's CA) and refused the client authentication
    expect(calls.get(opA)!.slice(before)).toEqual([
      {
        outcome: 'error',
        client: 'eid-crossed-client',
        certificate: fingerprintOfFile(opB.tls!.cert),
        error: 'invalid_client',
      },
    ]);
    const audit = gw.audit as unknown as {
      events: { type: string; providerId?: string; detail?: { code?: string; reason?: string } }[];
    };
    expect(
      audit.events.filter((e) => e.type === 'verification_error' && e.providerId === 'eid-crossed').at(-1)?.detail,
    ).toMatchObject({ code: 'invalid_response', reason: expect.stringContaining('invalid_client') });
  });
});

describe('RFC 8705 mtls_endpoint_aliases at the upstream', () => {
  test("tls_client_auth: the token request goes to the OP's mutual-TLS alias with the configured certificate, and the login completes", async () => {
    const l = await loginVia('eid-aliases', opAliases);
    // at the issuer listener the request would carry no certificate: invalid_client, and no login
    expect(calls.get(opAliases)).toEqual([
      {
        outcome: 'success',
        client: 'eid-aliases-client',
        certificate: fingerprintOfFile(opAliases.tls!.cert),
        listener: 'alias',
      },
    ]);
    expect(await claimsOf(gw.rp, l.started, l.final!)).toMatchObject({
      personal_code: '010180-15097',
      acr: 'high',
      idp: 'eid-aliases',
    });
  });
});
