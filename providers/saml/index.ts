// Adapter kind `saml`: an upstream SAML 2.0 IdP (eIDAS nodes and SAML eID providers): signed
// AuthnRequests by HTTP-Redirect or HTTP-POST, responses by HTTP-POST, optionally encrypted assertions,
// declarative attribute mapping, eIDAS levels of assurance. See README.md beside this file for what is
// and is not supported.
import type { AdapterFactory } from '../../src/broker/adapter.ts';
import { checkSaml } from './check.ts';
import { samlConfigSchema, type SamlProviderConfig } from './config.ts';
import { createSamlAdapter } from './open.ts';
import { samlEndpoints } from './endpoints.ts';
import { samlDemoPeer } from './test-idp/demo.ts';
import { kit } from './kit.ts';

export { SamlAdapter } from './adapter.ts';
export { checkSaml } from './check.ts';
export { samlConfigSchema, type SamlProviderConfig } from './config.ts';
export { createSamlAdapter } from './open.ts';
export { spEndpoints, spKeyPairs } from './sp.ts';

export const factory: AdapterFactory<SamlProviderConfig> = {
  kind: 'saml',
  schema: samlConfigSchema,
  /** messages travel through the browser; only metadata fetched from `metadata_url` is server to server */
  backChannels: (config) => (config.metadata_url ? [['metadata_url']] : []),
  endpoints: samlEndpoints,
  check: checkSaml,
  demoPeer: samlDemoPeer,
  kit,
  create: createSamlAdapter,
};
