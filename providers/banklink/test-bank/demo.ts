// Test banks for the demo, mounted in-process under /demo/banks/<id>. Key material lives in files so the
// gateway's config (private_key, bank_certificate) can point at them: call ensureDemoBankMaterial() before
// the config is loaded (e.g. from `certs dev`), then mount demoBankRouters() in the app. Development only.
import { join } from 'node:path';
import type { Router } from 'express';
import type { DemoPeer } from '../../../src/registry/factory.ts';
import type { BanklinkConfig } from '../config.ts';
import type { NameFormat } from '../names.ts';
import type { Hash } from '../protocol.ts';
import { testBankRouter } from './bank.ts';
import { loadOrCreateKeyMaterial } from './material.ts';

export interface DemoBank {
  /** provider id in the gateway config, also the mount path segment */
  id: string;
  /** the bank's banklink id (VK_SND_ID of its answers, `receiver_id` in the gateway config) */
  bankId: string;
  displayName: string;
  nameFormat?: NameFormat;
  /** for a legacy 009-with-SHA-1 bank only; 008 is always SHA-1 */
  hash?: Hash;
}

/** Two banks that differ where real banks differ: modern 009/SHA-512, and legacy 008/SHA-1 with another name order. */
export const DEMO_BANKS: readonly DemoBank[] = [
  { id: 'demo-bank', bankId: 'DEMOBANK', displayName: 'Demo Banka (009, SHA-512)', nameFormat: 'surname_comma_given' },
  {
    id: 'demo-legacy-bank',
    bankId: 'LEGACYBANK',
    displayName: 'Vecā Banka (008, SHA-1)',
    nameFormat: 'surname_space_given',
  },
];

export interface DemoMaterialFiles {
  /** the gateway's banklink key and certificate: `private_key` in the config; the banks verify with the certificate */
  gateway: { keyFile: string; certificateFile: string };
  /** per demo bank id: `bank_certificate` in the config is certificateFile */
  banks: Record<string, { keyFile: string; certificateFile: string }>;
}

/** Create (once) and return the files: <dir>/gateway/{key,certificate}.pem and <dir>/<id>/{key,certificate}.pem. */
export async function ensureDemoBankMaterial(
  dir = 'var/dev/banklink',
  banks: readonly DemoBank[] = DEMO_BANKS,
): Promise<DemoMaterialFiles> {
  const gateway = await loadOrCreateKeyMaterial(join(dir, 'gateway'), 'vpm-gateway banklink (development)');
  const out: DemoMaterialFiles = {
    gateway: { keyFile: gateway.keyFile, certificateFile: gateway.certificateFile },
    banks: {},
  };
  for (const bank of banks) {
    const m = await loadOrCreateKeyMaterial(join(dir, bank.id), `${bank.bankId} test bank`);
    out.banks[bank.id] = { keyFile: m.keyFile, certificateFile: m.certificateFile };
  }
  return out;
}

/** Routers to mount at `/demo/banks/<id>` (the bank's `url` in the config is then <issuer>/demo/banks/<id>/). */
export async function demoBankRouters(options: {
  dir?: string;
  merchantId: string;
  banks?: readonly DemoBank[];
}): Promise<{ id: string; path: string; router: Router }[]> {
  const banks = options.banks ?? DEMO_BANKS;
  const dir = options.dir ?? 'var/dev/banklink';
  await ensureDemoBankMaterial(dir, banks);
  const gateway = await loadOrCreateKeyMaterial(join(dir, 'gateway'), 'vpm-gateway banklink (development)');
  const out: { id: string; path: string; router: Router }[] = [];
  for (const bank of banks) {
    const material = await loadOrCreateKeyMaterial(join(dir, bank.id), `${bank.bankId} test bank`);
    const { router } = testBankRouter({
      bankId: bank.bankId,
      merchantId: options.merchantId,
      merchantCertificatePem: gateway.certificatePem,
      material,
      displayName: bank.displayName,
      ...(bank.nameFormat ? { nameFormat: bank.nameFormat } : {}),
      ...(bank.hash ? { hash: bank.hash } : {}),
    });
    out.push({ id: bank.id, path: `/demo/banks/${bank.id}`, router });
  }
  return out;
}

/** The demo's test banks: mounted for the entries whose `url` is under `<issuer>/demo/banks/`. */
export const banklinkDemoPeer: DemoPeer<BanklinkConfig> = {
  prepareMaterial: async () => {
    await ensureDemoBankMaterial();
  },
  async mount(entries, { issuer }) {
    const served = entries.filter((p) => p.url.startsWith(`${issuer}/demo/banks/`));
    if (!served.length) return [];
    const wanted = new Set(served.map((p) => p.id));
    return demoBankRouters({ merchantId: served[0]!.sender_id, banks: DEMO_BANKS.filter((b) => wanted.has(b.id)) });
  },
};
