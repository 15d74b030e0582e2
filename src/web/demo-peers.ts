// Development only: the demo's test banks run inside the gateway process, mounted under /demo/banks/<id>,
// so `npm start` offers real banklink logins without any other program. Their key material is generated
// under var/dev/banklink before the configuration (which points at those files) is validated.
import { readFileSync } from 'node:fs';
import type { Express } from 'express';
import { parse } from 'yaml';
import type { GatewayConfig } from '../config/load.ts';
import { DEMO_BANKS, demoBankRouters, ensureDemoBankMaterial } from '../../providers/banklink/test-bank/demo.ts';

/** Before loading a config file: when it enables the demo, make sure the demo banks' key files exist. */
export async function prepareDemoMaterial(path: string): Promise<void> {
  let doc: unknown;
  try {
    doc = parse(readFileSync(path, 'utf8'));
  } catch {
    return; // the real load reports what is wrong with the file
  }
  const demo = (doc as { demo?: { enabled?: unknown }; production?: unknown } | null)?.demo;
  if (demo?.enabled === true && (doc as { production?: unknown }).production !== true) await ensureDemoBankMaterial();
}

/** The test banks that the configuration's demo banklink providers point at, ready to mount. */
export async function demoPeers(config: GatewayConfig): Promise<(app: Express) => void> {
  const base = `${config.issuer.replace(/\/$/, '')}/demo/banks/`;
  const banklink = config.providers.filter((p) => p.config.type === 'banklink' && String(p.config.url).startsWith(base));
  if (!banklink.length) return () => {};
  const merchantId = String(banklink[0]!.config.sender_id);
  const wanted = new Set(banklink.map((p) => p.config.id));
  const routers = await demoBankRouters({ merchantId, banks: DEMO_BANKS.filter((b) => wanted.has(b.id)) });
  return (app) => {
    for (const { path, router } of routers) app.use(path, router);
  };
}
