// What an upstream OpenID provider entry may not be in production: any plain http upstream URL.
import type { AdapterCheckContext, AdapterProblem } from '../../src/broker/adapter.ts';
import type { OidcProviderConfig } from './config.ts';

/** Every upstream URL of an entry with its path: the issuer (discovery) and any static metadata. */
export function upstreamUrls(config: OidcProviderConfig): [path: string[], url: string][] {
  return [
    [['issuer'], config.issuer],
    ...Object.entries(config.metadata ?? {})
      .filter((e): e is [string, string] => typeof e[1] === 'string')
      .map(([k, u]): [string[], string] => [['metadata', k], u]),
  ];
}

/**
 * What production refuses: any plain http upstream URL. Tokens, client assertions (private_key_jwt),
 * and the JWKS that verifies ID tokens would all travel unprotected.
 */
export function checkOidc(config: OidcProviderConfig, ctx: AdapterCheckContext): AdapterProblem[] {
  if (!ctx.production) return [];
  return upstreamUrls(config)
    .filter(([, url]) => !url.startsWith('https://'))
    .map(([path]) => ({ path, message: 'must be https in production' }));
}
