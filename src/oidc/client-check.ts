// node-oidc-provider validates a configured client's metadata only when the client is first used: a setting
// it refuses would pass `config check` and `start`, then break that service on its first request (an error
// page at /auth, invalid_client_metadata with the reason at /token). Each client is built here as the engine
// will build it, by an engine with the same client rules (./engine.ts clientRules) and nothing else.
import { generateKeyPairSync } from 'node:crypto';
import Provider, { type Adapter, type Configuration } from 'oidc-provider';
import type { GatewayConfig } from '../config/load.ts';
import { clientRules, type EnginePages } from './engine.ts';
import { pairwiseIdentifier } from './pairwise.ts';

/** Stores nothing: the check engine serves no request. */
class NoStorage implements Adapter {
  async upsert(): Promise<void> {}
  async find(): Promise<undefined> {}
  async findByUserCode(): Promise<undefined> {}
  async findByUid(): Promise<undefined> {}
  async consume(): Promise<void> {}
  async destroy(): Promise<void> {}
  async revokeByGrantId(): Promise<void> {}
}

const unused = async () => {
  throw new Error('the client check engine shows no page');
};
const NO_PAGES: EnginePages = {
  renderError: unused,
  logoutSource: unused,
  postLogoutSuccessSource: unused,
  statusPage: unused,
  formPostPage: unused,
};

/** What the engine says of a message the configuration can act on. */
function worded(description: string): string {
  // the engine asks for a sector_identifier_uri (OpenID Connect Core 8.1), which the configuration does not take
  if (/sector_identifier_uri is mandatory/.test(description))
    return 'a pairwise client needs its redirect_uris on one host (its pairwise sector, OpenID Connect Core 8.1)';
  // certificate methods exist only where server settings bring client certificates (RFC 8705)
  if (/^token_endpoint_auth_method must be/.test(description))
    return `${description} (tls_client_auth and self_signed_tls_client_auth need server.tls with client_ca, or server.client_certificate_header)`;
  return description;
}

/** One key of each kind the ID token algorithms need (the engine refuses a client whose algorithm has no
 * key), made once per process: the check engine signs nothing. */
let checkKeys: Configuration['jwks'] | undefined;
function keysOfEveryKind(): Configuration['jwks'] {
  checkKeys ??= {
    keys: [generateKeyPairSync('ec', { namedCurve: 'P-256' }), generateKeyPairSync('rsa', { modulusLength: 2048 })].map(
      ({ privateKey }, i) => ({ ...privateKey.export({ format: 'jwk' }), kid: `client-check-${i}`, use: 'sig' }),
    ),
  } as Configuration['jwks'];
  return checkKeys;
}

/** `clients[i]: <the engine's reason>` for every client the engine would refuse. */
export async function engineClientProblems(config: GatewayConfig): Promise<string[]> {
  if (!config.clients.length) return [];
  let engine: Provider;
  try {
    engine = new Provider(config.issuer, {
      ...clientRules(config, NO_PAGES, pairwiseIdentifier('')),
      adapter: NoStorage,
      jwks: keysOfEveryKind(),
    });
  } catch {
    // a setting the engine is built from that cannot be read yet (the client CA file of server.tls): the
    // checks of those settings name it, and the clients are checked once it can be read
    return [];
  }
  const problems: string[] = [];
  for (const [i, client] of config.clients.entries()) {
    try {
      await engine.Client.find(client.client_id);
    } catch (err) {
      const {
        error_description: description,
        message,
        cause,
      } = err as {
        error_description?: string;
        message: string;
        cause?: { message?: string };
      };
      // a key set's reason (a private or symmetric key, a missing member) is in the cause
      const reason = [description ?? message, cause?.message].filter(Boolean).join(': ');
      problems.push(`clients[${i}]: ${worded(reason)}`);
    }
  }
  return problems;
}
