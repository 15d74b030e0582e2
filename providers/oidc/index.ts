// Adapter kind `oidc`: an upstream OpenID Connect provider (eParaksts, bank OIDC networks).
import { AdapterConfigError, type AdapterDeps, type AdapterFactory } from '../../src/broker/adapter.ts';
import { createProviderTransport } from '../../src/tls/agent.ts';
import { OidcAdapter } from './adapter.ts';
import { checkOidc } from './check.ts';
import { oidcProviderSchema, type OidcProviderConfig } from './config.ts';
import { oidcDemoPeer } from './test-op/demo.ts';
import { loadOrCreateKey } from './keys.ts';
import { kit } from './kit.ts';

export { OidcAdapter } from './adapter.ts';
export { oidcProviderSchema, type OidcProviderConfig, type OidcProviderInput } from './config.ts';

export async function createOidcAdapter(config: OidcProviderConfig, deps: AdapterDeps): Promise<OidcAdapter> {
  // refuse before any key is generated, for callers that did not run the kind's check first
  const problems = checkOidc(config, deps);
  if (problems.length) throw new AdapterConfigError(config.id, problems);
  const needsSigning = config.client_auth.method === 'private_key_jwt' || config.request_object;
  const key = (use: 'sig' | 'enc', settings: { key?: string | undefined; alg: string }) =>
    loadOrCreateKey({
      file: settings.key,
      keyDir: deps.keyDir,
      name: `oidc-${config.id}-${use === 'sig' ? 'signing' : 'encryption'}-${settings.alg}`,
      alg: settings.alg,
      use,
    });
  const signingKey = needsSigning ? await key('sig', config.signing) : undefined;
  const encryptionKey = config.encryption ? await key('enc', config.encryption) : undefined;
  // every back-channel call (discovery, JWKS, PAR, token, userinfo) goes through this provider's own agent
  const transport = createProviderTransport(config.id, config.tls, {
    connectTimeout: config.timeout * 1000,
    responseTimeout: config.timeout * 1000,
  });
  const adapter = new OidcAdapter({ config, deps, transport, signingKey, encryptionKey });
  // discovery starts from warmUp(), which the gateway calls once it listens (an in-process demo eID is
  // mounted on the gateway's own server, so it cannot answer earlier)
  return adapter;
}

export const factory: AdapterFactory<OidcProviderConfig> = {
  kind: 'oidc',
  schema: oidcProviderSchema,
  /** discovery, JWKS, PAR, token and userinfo: all server to server, from the issuer on */
  backChannels: () => [['issuer']],
  check: checkOidc,
  demoPeer: oidcDemoPeer,
  kit,
  create: createOidcAdapter,
};
