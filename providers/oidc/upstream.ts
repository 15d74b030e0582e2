// The upstream's openid-client Configuration: discovery (or static metadata) done once and retried on
// the next login after a failure, client authentication, every back-channel call through this
// provider's own transport with its answers bounded in size, and ID token signature and decryption policy.
import * as client from 'openid-client';
import type { ProviderTransport } from '../../src/tls/transport.ts';
import type { OidcProviderConfig } from './config.ts';
import type { GatewayKey } from './keys.ts';
import { boundedFetch } from './response-limit.ts';

export class UpstreamConfiguration {
  /** the authorization endpoint, once discovered */
  authorizationEndpoint: string | undefined;
  private readonly config: OidcProviderConfig;
  private readonly transport: ProviderTransport;
  private readonly signingKey: GatewayKey | undefined;
  private readonly encryptionKey: GatewayKey | undefined;
  /** some upstream URL is plain http (allowed outside production only, see checkOidc) */
  private readonly insecure: boolean;
  private configuration: Promise<client.Configuration> | undefined;

  constructor(options: {
    config: OidcProviderConfig;
    transport: ProviderTransport;
    signingKey: GatewayKey | undefined;
    encryptionKey: GatewayKey | undefined;
    insecure: boolean;
  }) {
    this.config = options.config;
    this.transport = options.transport;
    this.signingKey = options.signingKey;
    this.encryptionKey = options.encryptionKey;
    this.insecure = options.insecure;
  }

  /** Discovery (or static metadata) once, retried on the next login after a failure. */
  get(): Promise<client.Configuration> {
    if (!this.configuration) {
      this.configuration = this.buildConfiguration()
        .then((built) => {
          this.authorizationEndpoint = built.serverMetadata().authorization_endpoint;
          return built;
        })
        .catch((err: unknown) => {
          this.configuration = undefined;
          throw err;
        });
    }
    return this.configuration;
  }

  private clientAuth(): client.ClientAuth {
    const auth = this.config.client_auth;
    switch (auth.method) {
      case 'client_secret_basic':
        return client.ClientSecretBasic(auth.client_secret);
      case 'client_secret_post':
        return client.ClientSecretPost(auth.client_secret);
      case 'private_key_jwt':
        return client.PrivateKeyJwt({ key: this.signingKey!.key, kid: this.signingKey!.kid });
      case 'tls_client_auth':
        return client.TlsClientAuth();
    }
  }

  private async buildConfiguration(): Promise<client.Configuration> {
    const config = this.config;
    const metadata: Partial<client.ClientMetadata> = {
      id_token_signed_response_alg: config.id_token_signed_response_alg,
      ...(config.userinfo_signed_response_alg
        ? { userinfo_signed_response_alg: config.userinfo_signed_response_alg }
        : {}),
      [client.clockTolerance]: config.clock_tolerance,
      // RFC 8705 §5: an OP may take client certificates only on the listener it publishes as
      // mtls_endpoint_aliases (as the gateway's own server.mtls does); openid-client goes there only when asked
      ...(config.client_auth.method === 'tls_client_auth' ? { use_mtls_endpoint_aliases: true } : {}),
    };
    const bounded = boundedFetch(this.transport.fetch, config.max_response_bytes);
    const fetchVia: client.CustomFetch = (url, options) => bounded(url, options as RequestInit);
    let configuration: client.Configuration;
    if (config.metadata) {
      configuration = new client.Configuration(
        { issuer: config.issuer, ...config.metadata },
        config.client_id,
        metadata,
        this.clientAuth(),
      );
      configuration[client.customFetch] = fetchVia;
      configuration.timeout = config.timeout;
      if (this.insecure) client.allowInsecureRequests(configuration);
    } else {
      // discovery checks that the document's issuer is exactly the configured one
      configuration = await client.discovery(new URL(config.issuer), config.client_id, metadata, this.clientAuth(), {
        [client.customFetch]: fetchVia,
        timeout: config.timeout,
        ...(this.insecure ? { execute: [client.allowInsecureRequests] } : {}),
      });
    }
    // openid-client trusts TLS for ID tokens from the token endpoint and skips their signature; we verify
    // it anyway (a compromised or misrouted back channel must not be able to mint identities)
    client.enableNonRepudiationChecks(configuration);
    if (this.encryptionKey && config.encryption) {
      client.enableDecryptingResponses(configuration, [...config.encryption.enc], {
        key: this.encryptionKey.key,
        kid: this.encryptionKey.kid,
        alg: this.encryptionKey.alg,
      });
    }
    return configuration;
  }
}
