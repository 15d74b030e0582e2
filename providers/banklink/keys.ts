// The gateway's banklink private key and the bank's certificate: what an entry may hold (RSA keys, at
// least 2048 bits for VK_VERSION 009 and 1024 for the legacy 008), each refusal naming its path, and the
// loaded keys the adapter signs and verifies with.
import { readFileSync } from 'node:fs';
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import type { AdapterCheckContext, AdapterProblem } from '../../src/broker/adapter.ts';
import { MIN_RSA_BITS } from '../../src/tls/material-checks.ts';
import type { BanklinkConfig } from './config.ts';

export interface BanklinkKeys {
  privateKey: KeyObject;
  bankKey: KeyObject;
  bankCertificate: X509Certificate;
}

/** Read the entry's key files; throws what node:crypto and node:fs throw for unreadable ones. */
export function loadBanklinkKeys(config: BanklinkConfig): BanklinkKeys {
  const privateKey = createPrivateKey({
    key: readFileSync(config.private_key),
    ...(config.private_key_passphrase ? { passphrase: config.private_key_passphrase } : {}),
  });
  const bankCertificate = new X509Certificate(readFileSync(config.bank_certificate));
  return { privateKey, bankKey: bankCertificate.publicKey, bankCertificate };
}

/** RSA only, and at least the bits the entry's VK_VERSION needs (in production the key checks already
 * refuse every RSA key below MIN_RSA_BITS, more than either version needs, so they alone speak then). */
function keyProblems(config: BanklinkConfig, production: boolean): AdapterProblem[] {
  let keys: BanklinkKeys;
  try {
    keys = loadBanklinkKeys(config);
  } catch {
    return []; // unreadable key material is reported by the startup key checks, with its path
  }
  const minBits = config.version === '009' ? 2048 : 1024;
  const out: AdapterProblem[] = [];
  for (const [field, key] of [
    ['private_key', keys.privateKey],
    ['bank_certificate', keys.bankKey],
  ] as const) {
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
    if (key.asymmetricKeyType !== 'rsa') out.push({ path: [field], message: 'must hold an RSA key' });
    else if (bits < minBits && !(production && bits < MIN_RSA_BITS))
      out.push({
        path: [field],
        message: `is RSA-${bits}; VK_VERSION ${config.version} needs at least ${minBits} bits`,
      });
  }
  return out;
}

/** What a bank entry may not be: keys the protocol version does not allow, and (in production) a form
 * that would post the user's login to plain http. */
export function checkBanklink(config: BanklinkConfig, ctx: AdapterCheckContext): AdapterProblem[] {
  const out = keyProblems(config, ctx.production);
  if (ctx.production && new URL(config.url).protocol !== 'https:')
    out.push({ path: ['url'], message: 'must be https in production' });
  return out;
}
