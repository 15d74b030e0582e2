// A request line may carry an absolute URL (RFC 9112 3.2.2: `POST https://other.example/token HTTP/1.1`).
// The engine builds every URL from the whole target, so without care it would publish that host in
// discovery and accept a client assertion whose audience is another authorization server's token
// endpoint. Sent over a raw socket to a running gateway (development mode: another Host is served as
// the issuer; production refuses it, test/tls/issuer-host.test.ts).
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { generateKeyPair, exportJWK, SignJWT, type CryptoKey } from 'jose';
import { useGateway, RP_REDIRECT } from '../support/gateway.ts';

let clientKey: CryptoKey;
const gw = useGateway(async () => {
  const keys = await generateKeyPair('ES256', { extractable: true });
  clientKey = keys.privateKey;
  const jwk = { ...(await exportJWK(keys.publicKey)), kid: 'rp-key-1', alg: 'ES256', use: 'sig' };
  return {
    clients: [
      {
        client_id: 'rp-jwt',
        token_endpoint_auth_method: 'private_key_jwt',
        jwks: { keys: [jwk] },
        redirect_uris: [RP_REDIRECT],
      },
    ],
  };
});

interface Answer {
  status: number;
  body: string;
}

/** One request whose request line carries `target` as it is (origin-, absolute- or asterisk-form). */
function send(method: string, target: string, body?: string, headers: Record<string, string> = {}): Promise<Answer> {
  const { host, port } = new URL(gw.issuer);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, method, path: target, headers: { host, ...headers } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** A client assertion rp-jwt signed for `audience` (RFC 7523), as another authorization server would get it. */
function assertion(audience: string): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ jti: randomUUID() })
    .setProtectedHeader({ alg: 'ES256', kid: 'rp-key-1' })
    .setIssuer('rp-jwt')
    .setSubject('rp-jwt')
    .setAudience(audience)
    .setIssuedAt(now)
    .setExpirationTime(now + 60)
    .sign(clientKey);
}

function tokenRequest(clientAssertion: string): string {
  return new URLSearchParams({
    grant_type: 'authorization_code',
    code: 'made-up-code',
    redirect_uri: RP_REDIRECT,
    code_verifier: 'a'.repeat(43),
    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    client_assertion: clientAssertion,
  }).toString();
}

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

test("discovery asked for with another host in the request line names only the issuer's URLs", async () => {
  const answer = await send('GET', 'https://evil.example/.well-known/openid-configuration');
  expect(answer.status).toBe(200);
  expect(answer.body).not.toContain('evil.example');
  const discovery = JSON.parse(answer.body) as Record<string, string>;
  expect(discovery.authorization_endpoint).toBe(`${gw.issuer}/auth`);
  expect(discovery.token_endpoint).toBe(`${gw.issuer}/token`);
});

test("a client assertion made for another server's token endpoint is refused, whatever the request line names", async () => {
  const foreign = await assertion('https://other-as.example/token');
  for (const target of ['/token', 'https://other-as.example/token']) {
    const answer = await send('POST', target, tokenRequest(foreign), FORM);
    expect(answer.status).toBe(401);
    expect(JSON.parse(answer.body)).toMatchObject({ error: 'invalid_client' });
  }
  // the same client's assertion for this gateway passes client authentication (the made-up code does not)
  const own = await send('POST', `${gw.issuer}/token`, tokenRequest(await assertion(`${gw.issuer}/token`)), FORM);
  expect(own.status).toBe(400);
  expect(JSON.parse(own.body)).toMatchObject({ error: 'invalid_grant' });
});

test('asterisk-form and authority-form targets are refused with 400, not served', async () => {
  for (const [method, target] of [
    ['OPTIONS', '*'],
    ['GET', 'evil.example:443'],
  ] as const) {
    const answer = await send(method, target);
    expect(answer.status).toBe(400);
    expect(answer.body).not.toContain('evil.example');
  }
  expect(
    gw.logLines.some(
      (l) => l.includes('request for another host refused') && l.includes('neither origin- nor absolute-form'),
    ),
  ).toBe(true);
});

test("in absolute-form naming the issuer, every route answers as in origin-form, the adapters' own routes too", async () => {
  for (const path of ['/healthz', '/providers/mock-eid/authorize?state=x', '/interaction/unknown', '/jwks']) {
    const origin = await send('GET', path);
    const absolute = await send('GET', `${gw.issuer}${path}`);
    expect([path, absolute.status]).toEqual([path, origin.status]);
    expect(absolute.body.replace(/nonce-[^'"]+/g, '')).toBe(origin.body.replace(/nonce-[^'"]+/g, ''));
  }
});
