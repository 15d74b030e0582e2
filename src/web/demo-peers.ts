// Development only: the demo's test peers (test banks, test SAML IdP, test OIDC eID) run inside the
// gateway process, mounted under /demo/, so `npm start` offers real upstream logins without any other
// program. Each adapter kind declares its peer (AdapterFactory.demoPeer): the key material it generates
// under var/dev before the configuration (which points at those files) is validated, and the routers it
// mounts for the entries that point at it.
import { readFileSync } from 'node:fs';
import type { Express } from 'express';
import { parse } from 'yaml';
import type { GatewayConfig } from '../config/load.ts';
import { underDemoMaterial } from '../config/production.ts';
import type { DemoMount } from '../registry/factory.ts';
import { ADAPTER_FACTORIES } from '../registry/adapters.ts';

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
  if (!generatesDemoMaterial(path)) return;
  for (const factory of ADAPTER_FACTORIES.values()) await factory.demoPeer?.prepareMaterial?.();
}

/** The test peers that the configuration's providers point at, ready to mount. */
export async function demoPeers(config: GatewayConfig): Promise<(app: Express) => void> {
  const ctx = { issuer: config.issuer.replace(/\/$/, ''), keyDir: config.keys.dir };
  const mounts: DemoMount[] = [];
  for (const factory of new Set(config.providers.map((entry) => entry.factory))) {
    if (!factory.demoPeer) continue;
    const entries = config.providers.filter((entry) => entry.factory === factory).map((entry) => entry.config);
    mounts.push(...(await factory.demoPeer.mount(entries, ctx)));
  }
  return (app) => {
    for (const { path, router } of mounts) app.use(path, router);
  };
}
