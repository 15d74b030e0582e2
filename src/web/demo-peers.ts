// Development only: the demo's test banks, test SAML IdP and test OIDC eID run inside the gateway process,
// mounted under /demo/banks/<id>, /demo/saml-idp and /demo/oidc-eid, so `npm start` offers real banklink,
// SAML and upstream OIDC logins without any other program. The banks' and IdP's key material is generated
// under var/dev/banklink and var/dev/saml before the configuration (which points at those files) is
// validated; the OIDC eID keeps its keys in memory and publishes them at its jwks_uri.
import { readFileSync } from 'node:fs';
import type { Express, RequestHandler, Router } from 'express';
import { parse } from 'yaml';
import type { GatewayConfig } from '../config/load.ts';
import { underDemoMaterial } from '../config/production.ts';
import { DEMO_BANKS, demoBankRouters, ensureDemoBankMaterial } from '../../providers/banklink/test-bank/demo.ts';
import { DEMO_SAML_PATH, demoSamlIdpRouter, ensureDemoSamlMaterial } from '../../providers/saml/test-idp/demo.ts';
import type { SamlProviderConfig } from '../../providers/saml/index.ts';
import { demoOidcEid, demoOidcIssuer } from '../../providers/oidc/test-op/demo.ts';
import type { OidcProviderConfig } from '../../providers/oidc/index.ts';

/** Whether a config file enables the demo outside production (so `start` generates the demo peers' key files). */
function generatesDemoMaterial(path: string): boolean {
  let doc: unknown;
  try {
    doc = parse(readFileSync(path, 'utf8'));
  } catch {
    return false; // the real load reports what is wrong with the file
  }
  const d = doc as { demo?: { enabled?: unknown }; production?: unknown } | null;
  return d?.demo?.enabled === true && d.production !== true;
}

/** The demo key files `start` will generate for this config file, for checks that must not write them. */
export function demoMaterialPlanned(path: string): ((file: string) => boolean) | undefined {
  return generatesDemoMaterial(path) ? underDemoMaterial : undefined;
}

/** After the checks, before loading a config file for real: when it enables the demo, make sure the demo peers' key files exist. */
export async function prepareDemoMaterial(path: string): Promise<void> {
  if (generatesDemoMaterial(path)) {
    await ensureDemoBankMaterial();
    await ensureDemoSamlMaterial();
  }
}

/** The test banks, SAML IdP and OIDC eID that the configuration's demo providers point at, ready to mount. */
export async function demoPeers(config: GatewayConfig): Promise<(app: Express) => void> {
  const issuer = config.issuer.replace(/\/$/, '');
  const mounts: { path: string; router: Router | RequestHandler }[] = [];

  const bankBase = `${issuer}/demo/banks/`;
  const banklink = config.providers.filter(
    (p) => p.config.type === 'banklink' && String(p.config.url).startsWith(bankBase),
  );
  if (banklink.length) {
    const merchantId = String(banklink[0]!.config.sender_id);
    const wanted = new Set(banklink.map((p) => p.config.id));
    mounts.push(...(await demoBankRouters({ merchantId, banks: DEMO_BANKS.filter((b) => wanted.has(b.id)) })));
  }

  // the test IdP trusts exactly one SP: the first saml provider whose SSO URL is the in-process IdP
  const saml = config.providers.find(
    (p) =>
      p.config.type === 'saml' &&
      (p.config as Partial<SamlProviderConfig>).idp?.sso_url === `${issuer}${DEMO_SAML_PATH}/sso`,
  );
  if (saml)
    mounts.push(
      await demoSamlIdpRouter({
        issuer,
        provider: saml.config as unknown as SamlProviderConfig,
        keyDir: config.keys.dir,
      }),
    );

  // The OIDC eID serves the first oidc provider whose issuer is its mount. The adapter's discovery at
  // startup runs before the server listens and fails; it is retried on the first login, when it succeeds.
  const oidc = config.providers.find(
    (p) => p.config.type === 'oidc' && (p.config as Partial<OidcProviderConfig>).issuer === demoOidcIssuer(issuer),
  );
  if (oidc) {
    const { path, op } = await demoOidcEid({ issuer, provider: oidc.config as unknown as OidcProviderConfig });
    mounts.push({ path, router: op.handle });
  }

  return (app) => {
    for (const { path, router } of mounts) app.use(path, router);
  };
}
