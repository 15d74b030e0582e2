// The gateway of the core-*.test.ts files: openid-client plays the agency service, the gateway brokers to
// the mock provider, on an in-memory store whose clock a test may move ahead (reset after each test) and
// with an audit log a test can wait on. Agency services: `rp` (the default), `rp-post` (client_secret_post,
// ES256 ID tokens), `rp-jwt` (private_key_jwt, RS256 ID tokens), `rp-pairwise` and `rp-bank-only` (only
// mock-bank).
import { generateKeyPair, exportJWK, type CryptoKey } from 'jose';
import { MemoryStore } from '../../src/store/memory.ts';
import { useGateway, WatchedAuditLog, RP_REDIRECT, type GatewayInUse } from '../support/gateway.ts';

export const PAIRWISE_SALT = 'pairwise-salt-for-tests-0123456789';
/** The gateway's clock runs `offset` ms ahead. */
export const clock = { offset: 0 };
export const audit = new WatchedAuditLog();
/** `rp-jwt`'s private key, made when the gateway starts */
export const keys = {} as { rpKey: CryptoKey };

export function useCoreGateway(): GatewayInUse {
  const gw = useGateway(async ({ cleanup }) => {
    const store = new MemoryStore(() => Date.now() + clock.offset);
    cleanup(() => store.close());
    const pair = await generateKeyPair('ES256', { extractable: true });
    keys.rpKey = pair.privateKey;
    const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'rp-key-1', alg: 'ES256', use: 'sig' };
    return {
      store,
      audit,
      settings: { pairwise_salt: PAIRWISE_SALT },
      clients: [
        {
          client_id: 'rp-post',
          client_secret: 'rp-post-secret-0123456789-0123456789',
          token_endpoint_auth_method: 'client_secret_post',
          redirect_uris: [RP_REDIRECT],
          id_token_signed_response_alg: 'ES256',
        },
        {
          client_id: 'rp-jwt',
          token_endpoint_auth_method: 'private_key_jwt',
          jwks: { keys: [jwk] },
          redirect_uris: [RP_REDIRECT],
          id_token_signed_response_alg: 'RS256',
        },
        {
          client_id: 'rp-pairwise',
          client_secret: 'rp-pairwise-secret-0123456789-012345',
          redirect_uris: [RP_REDIRECT],
          subject_type: 'pairwise',
          scopes: ['profile'],
        },
        {
          client_id: 'rp-bank-only',
          client_secret: 'rp-bank-secret-0123456789-0123456789',
          redirect_uris: [RP_REDIRECT],
          providers: ['mock-bank'],
        },
      ],
    };
  });
  afterEach(() => {
    clock.offset = 0;
  });
  return gw;
}
