// The demo's OIDC eID: the test OP mounted in-process under /demo/oidc-eid on the gateway's own server,
// so `npm start` offers a real upstream OpenID Connect login (discovery, PKCE, signed ID token carrying
// `serial_number: PNOLV-...` as eParaksts does) without any other program. Plain http (which the oidc
// adapter allows outside production), or https when the gateway serves server.tls: then the entry's
// `tls: { ca }` must name the CA of the gateway's own certificate (config/demo-https.yaml). Development only.
import type { ClientMetadata } from 'oidc-provider';
import type { DemoPeer } from '../../../src/registry/factory.ts';
import type { OidcProviderConfig } from '../config.ts';
import { createTestOpProvider, type TestOpProvider, type TestUser } from './index.ts';

/** where the gateway mounts the OP: its issuer is `<gateway issuer>/demo/oidc-eid` */
export const DEMO_OIDC_PATH = '/demo/oidc-eid';

/** The demo's people, in the eParaksts shape: the semantics identifier in `serial_number`. */
export const DEMO_OIDC_USERS: Record<string, TestUser> = {
  janis: { given_name: 'Jānis', family_name: 'Bērziņš', serial_number: 'PNOLV-010180-15097' },
  anna: { given_name: 'Anna Marija', family_name: 'Kalniņa', serial_number: 'PNOLV-325035-11782' },
  mari: { given_name: 'Mari', family_name: 'Maasikas', serial_number: 'PNOEE-60001019906' },
};

export const demoOidcIssuer = (gatewayIssuer: string) => `${gatewayIssuer.replace(/\/+$/, '')}${DEMO_OIDC_PATH}`;

/** The client the OP registers for a gateway provider entry: its id, secret, callback and ID token algorithm. */
export function demoOidcClient(provider: OidcProviderConfig, gatewayIssuer: string): ClientMetadata {
  const auth = provider.client_auth;
  if (auth.method !== 'client_secret_basic' && auth.method !== 'client_secret_post') {
    throw new Error(
      `provider ${provider.id}: the demo OIDC eID supports client_secret_basic and client_secret_post, not ${auth.method}`,
    );
  }
  if (provider.encryption || provider.request_object) {
    throw new Error(
      `provider ${provider.id}: the demo OIDC eID does not do encryption or request objects; use the test OP (npm run test-eid) for those`,
    );
  }
  return {
    client_id: provider.client_id,
    client_secret: auth.client_secret,
    token_endpoint_auth_method: auth.method,
    redirect_uris: [`${gatewayIssuer.replace(/\/+$/, '')}/broker/callback/${provider.id}`],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    id_token_signed_response_alg: provider.id_token_signed_response_alg,
  };
}

/** The OP for a gateway provider entry whose issuer is the demo path, ready for `app.use(path, handle)`. */
export async function demoOidcEid(o: {
  issuer: string;
  provider: OidcProviderConfig;
  users?: Record<string, TestUser>;
}): Promise<{ path: string; op: TestOpProvider }> {
  const client = demoOidcClient(o.provider, o.issuer);
  const op = await createTestOpProvider({
    issuer: demoOidcIssuer(o.issuer),
    clients: new Map([[client.client_id, client]]),
    users: o.users ?? DEMO_OIDC_USERS,
  });
  return { path: DEMO_OIDC_PATH, op };
}

/**
 * Over https the gateway's back channel to the demo eID on its own server verifies the gateway's own
 * certificate: without a `tls` block naming its CA every login through it would end in an error page.
 * Refused at start instead of offering a provider that cannot work.
 */
export function demoOidcTlsProblem(provider: OidcProviderConfig): string | undefined {
  if (!provider.issuer.startsWith('https:') || provider.tls) return undefined;
  return (
    `provider ${provider.id}: the demo OIDC eID is served by this gateway over https (${provider.issuer}), ` +
    'so its entry needs tls: { ca: <the CA of server.tls> } (certs/dev/ca.pem with the development PKI) ' +
    'for the back channel to trust it; see config/demo-https.yaml'
  );
}

/** The demo's OIDC peer: it serves the first entry whose issuer is its mount. The adapter's discovery at
 * startup runs before the server listens and fails; it is retried on the first login, and succeeds. */
export const oidcDemoPeer: DemoPeer<OidcProviderConfig> = {
  check(entries, { issuer }) {
    const provider = entries.find((p) => p.issuer === demoOidcIssuer(issuer));
    const problem = provider && demoOidcTlsProblem(provider);
    return problem ? [problem] : [];
  },
  async mount(entries, { issuer }) {
    const provider = entries.find((p) => p.issuer === demoOidcIssuer(issuer));
    if (!provider) return [];
    const { path, op } = await demoOidcEid({ issuer, provider });
    return [{ path, router: op.handle }];
  },
};
