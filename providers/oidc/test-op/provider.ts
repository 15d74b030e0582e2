// The test OP without a server: node-oidc-provider with its signing keys, tamper knobs and login step,
// served by one Node request listener, so another program (the demo) can mount it under a path prefix.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';
import Provider, { type ClientMetadata } from 'oidc-provider';
import { opConfiguration } from './configuration.ts';
import { interactionHandler } from './interaction.ts';
import { memoryStorage } from './storage.ts';
import { applyTamper, type Tamper } from './tamper.ts';
import { TEST_USERS, type TestUser } from './users.ts';

export interface TestOpProviderOptions {
  /** the OP's issuer; a path (`http://host/demo/oidc-eid`) means it is mounted under that prefix */
  issuer: string;
  /** served live: entries added later are seen */
  clients: Map<string, ClientMetadata>;
  users?: Record<string, TestUser>;
  /** offer tls_client_auth (the OP must then be served over HTTPS that requests client certificates) */
  mtls?: boolean;
  /** RFC 8705 `mtls_endpoint_aliases` to publish in discovery (served by another listener) */
  mtlsEndpointAliases?: Record<string, string>;
}

/** The Provider with its login page, ready to serve from any server: `handle(req, res)` takes paths below the issuer. */
export interface TestOpProvider {
  provider: Provider;
  signingKey: JWK;
  jwks: { keys: JWK[] };
  tamper: Tamper;
  /** a Node request listener; under Express `app.use(prefix, op.handle)` (Express strips the prefix) */
  handle(req: IncomingMessage, res: ServerResponse): void;
  /** Move the login of every single sign-on session this many seconds into the past. */
  ageSessions(seconds: number): void;
}

/** A private signing JWK whose kid is its thumbprint (RFC 7638). */
async function signingJwk(alg: 'RS256' | 'ES256'): Promise<JWK> {
  const options = alg === 'RS256' ? { modulusLength: 2048, extractable: true } : { extractable: true };
  const key = await exportJWK((await generateKeyPair(alg, options)).privateKey);
  key.kid = await calculateJwkThumbprint(key);
  key.use = 'sig';
  return key;
}

const publicOf = ({ d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...pub }: JWK) => pub;

/**
 * Build the test OP without a server, e.g. to mount it in another program's Express app (the demo mounts
 * it in the gateway under /demo/oidc-eid). startTestOp() builds on this with its own HTTP(S) server.
 */
export async function createTestOpProvider(options: TestOpProviderOptions): Promise<TestOpProvider> {
  const { issuer, clients } = options;
  const users = options.users ?? TEST_USERS;
  const mtls = options.mtls ?? false;
  // the path prefix the OP is mounted under ('' when it owns its origin); its own links must carry it
  const prefix = new URL(issuer).pathname.replace(/\/+$/, '');

  const signingKey = await signingJwk('RS256');
  const ecKey = await signingJwk('ES256');
  const storage = memoryStorage(clients);
  const provider = new Provider(
    issuer,
    opConfiguration({
      prefix,
      users,
      mtls,
      storage,
      keys: [signingKey, ecKey],
      ...(options.mtlsEndpointAliases ? { mtlsEndpointAliases: options.mtlsEndpointAliases } : {}),
    }),
  );
  if (mtls) provider.proxy = false;

  const tamper: Tamper = {};
  applyTamper(provider, tamper, signingKey);

  const oidcCallback = provider.callback();
  const interaction = interactionHandler(provider, { prefix, users });

  return {
    provider,
    signingKey,
    jwks: { keys: [publicOf(signingKey), publicOf(ecKey)] },
    tamper,
    ageSessions: (seconds) => storage.ageSessions(seconds),
    handle(req, res) {
      // req.url is below the issuer: the standalone server owns its origin, Express strips a mount prefix
      const path = new URL(req.url ?? '/', 'http://op.invalid').pathname;
      if (path.startsWith('/interaction/')) {
        interaction(req, res, path).catch((err: unknown) => {
          if (!res.headersSent) res.statusCode = 400;
          res.end(`interaction failed: ${(err as Error).message}`);
        });
        return;
      }
      oidcCallback(req, res);
    },
  };
}
