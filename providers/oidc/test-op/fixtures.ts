// Shared test fixtures: an oidc provider entry for the gateway and the matching client at the test OP,
// for each way the gateway can authenticate and receive tokens. Used by the adapter tests, the
// end-to-end gateway tests and the demo.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exportPKCS8, generateKeyPair, type JWK } from 'jose';
import type { ClientMetadata } from 'oidc-provider';
import { loadOrCreateKey } from '../keys.ts';
import type { OidcProviderInput } from '../config.ts';
import { EIDAS, type TestOp } from './index.ts';

export type ClientVariant = 'client_secret' | 'private_key_jwt' | 'encrypted' | 'tls_client_auth';

export interface GatewayKeyFiles {
  signing: string;
  encryption: string;
  signingJwk: JWK;
  encryptionJwk: JWK;
}

/** PKCS#8 key files for the gateway's side (signing PS256, decryption RSA-OAEP-256), and their public JWKs. */
export async function makeGatewayKeyFiles(dir: string): Promise<GatewayKeyFiles> {
  const signing = join(dir, 'gateway-oidc-signing.key');
  const encryption = join(dir, 'gateway-oidc-encryption.key');
  writeFileSync(
    signing,
    await exportPKCS8((await generateKeyPair('PS256', { modulusLength: 2048, extractable: true })).privateKey),
    { mode: 0o600 },
  );
  writeFileSync(
    encryption,
    await exportPKCS8((await generateKeyPair('RSA-OAEP-256', { modulusLength: 2048, extractable: true })).privateKey),
    { mode: 0o600 },
  );
  const s = await loadOrCreateKey({ file: signing, keyDir: dir, name: 'unused', alg: 'PS256', use: 'sig' });
  const e = await loadOrCreateKey({ file: encryption, keyDir: dir, name: 'unused', alg: 'RSA-OAEP-256', use: 'enc' });
  return { signing, encryption, signingJwk: s.publicJwk, encryptionJwk: e.publicJwk };
}

export const CLIENT_SECRET = 'test-op-client-secret-that-is-long-enough-0123456789';

/** The client the test OP registers for a variant (its id is `gw-<variant>`). */
export function testOpClient(
  variant: ClientVariant,
  redirectUri: string,
  keys: GatewayKeyFiles,
  tlsSubjectDn?: string,
): ClientMetadata {
  const base: ClientMetadata = {
    client_id: `gw-${variant}`,
    redirect_uris: [redirectUri],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    id_token_signed_response_alg: 'RS256',
  } as ClientMetadata;
  switch (variant) {
    case 'client_secret':
      return { ...base, client_secret: CLIENT_SECRET, token_endpoint_auth_method: 'client_secret_basic' };
    case 'private_key_jwt':
      return {
        ...base,
        token_endpoint_auth_method: 'private_key_jwt',
        token_endpoint_auth_signing_alg: 'PS256',
        request_object_signing_alg: 'PS256',
        jwks: { keys: [keys.signingJwk] },
      };
    case 'encrypted':
      return {
        ...base,
        token_endpoint_auth_method: 'private_key_jwt',
        token_endpoint_auth_signing_alg: 'PS256',
        request_object_signing_alg: 'PS256',
        id_token_encrypted_response_alg: 'RSA-OAEP-256',
        id_token_encrypted_response_enc: 'A256GCM',
        userinfo_signed_response_alg: 'RS256',
        userinfo_encrypted_response_alg: 'RSA-OAEP-256',
        userinfo_encrypted_response_enc: 'A256GCM',
        jwks: { keys: [keys.signingJwk, keys.encryptionJwk] },
      };
    case 'tls_client_auth':
      return {
        ...base,
        token_endpoint_auth_method: 'tls_client_auth',
        tls_client_auth_subject_dn: tlsSubjectDn ?? 'CN=vpm-gateway,O=VPM Test',
      };
  }
}

/** A gateway provider entry (before schema defaults) for the test OP and a variant. */
export function providerEntry(
  op: Pick<TestOp, 'issuer' | 'tls'>,
  variant: ClientVariant,
  keys: GatewayKeyFiles,
  id = 'test-eid',
): OidcProviderInput {
  const common: OidcProviderInput = {
    id,
    type: 'oidc',
    name: { lv: 'Testa eID', en: 'Test eID' },
    kind: 'eid',
    loa: 'high',
    onboarding: {
      stage: 'testing',
      eid_register: { entry: 'TEST-1', qualified: true },
      free_of_charge: true,
      two_factor: true,
    },
    ...(op.tls ? { tls: { ca: op.tls.ca, cert: op.tls.cert, key: op.tls.key } } : {}),
    issuer: op.issuer,
    client_id: `gw-${variant}`,
    client_auth: { method: 'client_secret_basic', client_secret: CLIENT_SECRET },
    scope: 'openid profile eid',
    id_token_signed_response_alg: 'RS256',
    claims: {
      source: 'id_token',
      given_name: 'given_name',
      family_name: 'family_name',
      personal_code: { claim: 'serial_number', pattern: 'PNO{country}-{code}' },
    },
    assurance: { acr: { [EIDAS.high]: 'high', [EIDAS.substantial]: 'substantial', [EIDAS.low]: 'low' } },
  };
  switch (variant) {
    case 'client_secret':
      return common;
    case 'private_key_jwt':
      // the Finnish-network shape: private_key_jwt, signed request objects, pushed authorization requests
      return {
        ...common,
        client_auth: { method: 'private_key_jwt' },
        signing: { alg: 'PS256', key: keys.signing },
        request_object: true,
        par: true,
      };
    case 'encrypted':
      return {
        ...common,
        client_auth: { method: 'private_key_jwt' },
        signing: { alg: 'PS256', key: keys.signing },
        userinfo_signed_response_alg: 'RS256',
        encryption: { id_token: true, userinfo: true, alg: 'RSA-OAEP-256', enc: ['A256GCM'], key: keys.encryption },
        claims: { ...common.claims, source: 'userinfo' },
      };
    case 'tls_client_auth':
      return { ...common, client_auth: { method: 'tls_client_auth' } };
  }
}
