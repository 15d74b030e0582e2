// Development key material for the test bank (and for tests that play the gateway): an RSA key and a
// self-signed certificate, generated on demand. Never committed, never used in production.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { execFile } from 'node:child_process';
import { generateKeyPair } from 'node:crypto';
import { promisify } from 'node:util';

const run = promisify(execFile);
const newKeyPair = promisify(generateKeyPair);

export interface KeyMaterial {
  /** PKCS#8 PEM */
  privateKeyPem: string;
  certificatePem: string;
}

/** RSA key (default 2048 bits) and a self-signed certificate valid for a year, made by the openssl CLI. */
export async function generateKeyMaterial(commonName: string, bits = 2048): Promise<KeyMaterial> {
  const { privateKey } = await newKeyPair('rsa', { modulusLength: bits });
  const privateKeyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  const dir = mkdtempSync(join(tmpdir(), 'banklink-material-'));
  try {
    const keyFile = join(dir, 'key.pem');
    writeFileSync(keyFile, privateKeyPem, { mode: 0o600 });
    const subject = `/CN=${commonName.replace(/[/=\\,+<>#;"]/g, ' ')}/O=vpm-gateway development`;
    const { stdout } = await run('openssl', [
      'req',
      '-x509',
      '-new',
      '-key',
      keyFile,
      '-sha256',
      '-days',
      '365',
      '-subj',
      subject,
      '-addext',
      'keyUsage=critical,digitalSignature',
    ]);
    return { privateKeyPem, certificatePem: stdout };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Reuse `key.pem` + `certificate.pem` in dir, or create them (key readable by the owner only). */
export async function loadOrCreateKeyMaterial(
  dir: string,
  commonName: string,
  bits = 2048,
): Promise<KeyMaterial & { keyFile: string; certificateFile: string }> {
  const keyFile = join(dir, 'key.pem');
  const certificateFile = join(dir, 'certificate.pem');
  if (existsSync(keyFile) && existsSync(certificateFile)) {
    return {
      privateKeyPem: readFileSync(keyFile, 'utf8'),
      certificatePem: readFileSync(certificateFile, 'utf8'),
      keyFile,
      certificateFile,
    };
  }
  const material = await generateKeyMaterial(commonName, bits);
  mkdirSync(dir, { recursive: true });
  writeFileSync(keyFile, material.privateKeyPem, { mode: 0o600 });
  writeFileSync(certificateFile, material.certificatePem);
  return { ...material, keyFile, certificateFile };
}
