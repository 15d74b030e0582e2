// The configuration `npm run bench` starts each gateway with: as an operator would write it (audit log on
// disk with its checkpoint key and witness, the store chosen), one ES256 agency service, the mock eID and
// the banklink test bank (009, RSA-2048/SHA-512 both ways). Rate limits stay on (every request still
// counts in the store) but high enough for one load generator's address, the mock eID's own pages included.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { BENCH_CLIENT } from './clients.ts';

export const BANK = { bankId: 'BENCHBANK', merchantId: 'VPMBENCH' };

export interface BenchGatewayOptions {
  issuer: string;
  port: number;
  /** this gateway's own directory: keys, audit log, audit keys */
  dir: string;
  store: { type: 'memory' } | { type: 'redis'; url: string; prefix: string };
  bankUrl: string;
  bankCertificate: string;
  merchantKey: string;
}

export function gatewayConfig(o: BenchGatewayOptions): Record<string, unknown> {
  const onboarding = { stage: 'testing', free_of_charge: true, two_factor: true };
  return {
    issuer: o.issuer,
    production: false,
    port: o.port,
    server: { host: '127.0.0.1' },
    store: o.store,
    keys: { dir: join(o.dir, 'keys') },
    // shared by every worker of `start --workers N`
    cookie_keys: [randomBytes(32).toString('base64url')],
    log_level: 'info',
    limits: { authorization: 1_000_000, interaction: 1_000_000, callback: 1_000_000, provider_pages: 1_000_000 },
    audit: { dir: join(o.dir, 'audit'), signing_key: join(o.dir, 'audit-key', 'checkpoint.pem') },
    clients: [
      {
        client_id: BENCH_CLIENT.clientId,
        client_name: 'Bench e-service',
        client_secret: BENCH_CLIENT.clientSecret,
        token_endpoint_auth_method: 'client_secret_basic',
        redirect_uris: [BENCH_CLIENT.redirectUri],
        id_token_signed_response_alg: 'ES256',
      },
    ],
    providers: [
      {
        id: 'bench-eid',
        type: 'mock',
        name: { lv: 'Bench eID', en: 'Bench eID' },
        kind: 'eid',
        loa: 'high',
        onboarding: { ...onboarding, eid_register: { entry: 'BENCH-0001', qualified: true } },
      },
      {
        id: 'bench-bank',
        type: 'banklink',
        name: { lv: 'Bench Banka', en: 'Bench Bank' },
        kind: 'bank',
        loa: 'substantial',
        onboarding: { ...onboarding, licence: { number: 'BENCH-LICENCE-1', valid_until: '2099-12-31' } },
        url: o.bankUrl,
        sender_id: BANK.merchantId,
        receiver_id: BANK.bankId,
        version: '009',
        private_key: o.merchantKey,
        bank_certificate: o.bankCertificate,
        name_format: 'surname_comma_given',
      },
    ],
  };
}
