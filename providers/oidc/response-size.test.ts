// Back-channel answers are bounded in size while they arrive (max_response_bytes, default 1 MiB): an OP
// (or whatever answers in its name) streaming an endless JWKS, or a huge token response, ends the login
// with the reason in the audit record instead of being read whole. The real test OP over HTTPS.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { BrokerError } from '../../src/login/broker-error.ts';
import { adapterDeps } from '../../test/support/broker.ts';
import { createOidcAdapter, oidcProviderSchema, type OidcProviderInput } from './index.ts';
import { loginAtTestOp, type OidcLoginEnd } from './test-logins.ts';
import { startTestOp, type TestOp } from './test-op/index.ts';
import { makeGatewayKeyFiles, providerEntry, testOpClient, type GatewayKeyFiles } from './test-op/fixtures.ts';

const CALLBACK = 'https://gateway.test/providers/test-eid/callback';
const MiB = 1024 * 1024;

let dir: string;
let keys: GatewayKeyFiles;
let op: TestOp;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vpm-oidc-size-'));
  keys = await makeGatewayKeyFiles(dir);
  op = await startTestOp({ clients: [testOpClient('client_secret', CALLBACK, keys)] });
});

afterAll(async () => {
  await op?.close();
  rmSync(dir, { recursive: true, force: true });
});

afterEach(() => {
  delete op.tamper.jwks;
  delete op.tamper.idToken;
});

/** A JWKS of `total` bytes, its real keys first and then padding, pulled by the OP's server as it sends. */
function streamedJwks(total: number): { stream: Readable; sent: () => number; finished: () => boolean } {
  const head = `{"keys":${JSON.stringify(op.jwks.keys)},"padding":"`;
  const chunk = 'a'.repeat(64 * 1024);
  let sent = 0;
  let finished = false;
  function* body() {
    yield head;
    sent += head.length;
    while (sent + chunk.length + 2 < total) {
      yield chunk;
      sent += chunk.length;
    }
    yield '"}';
    finished = true;
  }
  return { stream: Readable.from(body()), sent: () => sent, finished: () => finished };
}

async function login(override: Partial<OidcProviderInput> = {}): Promise<OidcLoginEnd> {
  const config = oidcProviderSchema.parse({ ...providerEntry(op, 'client_secret', keys), ...override });
  const adapter = await createOidcAdapter(config, adapterDeps(join(dir, 'keys')));
  try {
    return await loginAtTestOp(op, adapter, { callbackUrl: CALLBACK });
  } finally {
    await adapter.close();
  }
}

function refusedFor(outcome: OidcLoginEnd, reason: string): void {
  expect(outcome.result).toBeInstanceOf(BrokerError);
  expect(outcome.result).toMatchObject({ code: 'invalid_response', detail: expect.stringContaining(reason) });
  // the operator's record names the limit; the login belongs to its relying party, who is told
  expect(outcome.audit.events.filter((e) => e.type === 'verification_error').at(-1)?.detail).toEqual({
    code: 'invalid_response',
    reason: expect.stringContaining(reason),
  });
}

describe('back-channel answers bounded in size (max_response_bytes)', () => {
  test('a JWKS just under the default 1 MiB, sent chunked, still verifies the ID token', async () => {
    const jwks = streamedJwks(MiB - 4096);
    op.tamper.jwks = () => jwks.stream;
    const { result } = await login();
    expect(result).toMatchObject({ identity: { subject: 'PNOLV-010180-15097', loa: 'high' } });
    expect(jwks.finished()).toBe(true);
  });

  test('an 8 MiB JWKS sent chunked is cut off past 1 MiB: the login is refused with the limit as the reason', async () => {
    const jwks = streamedJwks(8 * MiB);
    op.tamper.jwks = () => jwks.stream;
    refusedFor(await login(), `token request: upstream response from ${op.issuer}/jwks larger than 1048576 bytes`);
    // the gateway closed the connection instead of reading on: the OP never got to the end
    expect(jwks.finished()).toBe(false);
    expect(jwks.sent()).toBeLessThan(8 * MiB);
  });

  test('a token response declaring more than a configured max_response_bytes is refused before it is read', async () => {
    op.tamper.idToken = () => 'x'.repeat(64 * 1024);
    refusedFor(
      await login({ max_response_bytes: 16 * 1024 }),
      `token request: upstream response from ${op.issuer}/token larger than 16384 bytes`,
    );
  });
});
