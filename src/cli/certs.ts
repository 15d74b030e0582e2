// `vpm-gateway certs dev [--dir certs/dev]`: the development PKI for the demo and tests. Idempotent:
// existing files are kept, only missing ones are issued (from the existing CA when there is one).
// Custom material (expired, not yet valid, other names or CAs) comes from src/tls/pki.ts directly.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  createCa,
  issueCertificate,
  loadCa,
  type CertificateAuthority,
  type IssuedCertificate,
  type LeafOptions,
} from '../tls/pki.ts';

export interface Io {
  stdout(s: string): void;
  stderr(s: string): void;
}

export const DEFAULT_DEV_DIR = 'certs/dev';

/** Leaf certificates of the dev PKI: file stem -> how to issue it. */
const LEAVES: Record<string, LeafOptions> = {
  // the gateway's HTTPS server and the demo providers' servers
  server: {
    commonName: 'localhost',
    usage: 'server',
    dnsNames: ['localhost'],
    ipAddresses: ['127.0.0.1', '::1'],
    subjectSuffix: 'O=vpm-gateway dev',
  },
  // the gateway's client certificate towards providers (back channels)
  'gateway-client': { commonName: 'vpm-gateway', usage: 'client', subjectSuffix: 'O=vpm-gateway dev' },
  // the demo agency service authenticating at the token endpoint (RFC 8705 tls_client_auth)
  'agency-client': { commonName: 'demo-service', usage: 'client', subjectSuffix: 'O=Demo Agency' },
};

export interface DevPki {
  dir: string;
  ca: { cert: string; key: string };
  /** by stem: server, gateway-client, agency-client */
  leaves: Record<string, { cert: string; key: string }>;
  /** file names created in this run (empty when everything already existed) */
  created: string[];
}

function write(path: string, content: string, secret: boolean): void {
  // private keys: owner-only; `wx` never overwrites an existing file
  writeFileSync(path, content, { mode: secret ? 0o600 : 0o644, flag: 'wx' });
}

function paths(dir: string, stem: string): { cert: string; key: string } {
  return { cert: join(dir, `${stem}.pem`), key: join(dir, `${stem}-key.pem`) };
}

/** Creates what is missing in `dir` and returns the paths of the whole dev PKI. */
export async function ensureDevPki(dir: string = DEFAULT_DEV_DIR): Promise<DevPki> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const created: string[] = [];
  const caPaths = paths(dir, 'ca');
  let ca: CertificateAuthority;
  if (existsSync(caPaths.cert) && existsSync(caPaths.key)) {
    ca = await loadCa(readFileSync(caPaths.cert, 'utf8'), readFileSync(caPaths.key, 'utf8'));
  } else {
    const orphans = Object.keys(LEAVES).filter((stem) => existsSync(paths(dir, stem).cert));
    if (existsSync(caPaths.cert) || existsSync(caPaths.key) || orphans.length > 0) {
      throw new Error(
        `${dir}: the CA certificate or key is missing but other material exists; remove ${dir} to start over`,
      );
    }
    ca = await createCa({ commonName: 'vpm-gateway development CA', subjectSuffix: 'O=vpm-gateway dev' });
    write(caPaths.cert, ca.cert, false);
    write(caPaths.key, ca.key, true);
    created.push('ca.pem', 'ca-key.pem');
  }
  const leaves = {} as DevPki['leaves'];
  for (const [stem, options] of Object.entries(LEAVES)) {
    const p = paths(dir, stem);
    leaves[stem] = p;
    const hasCert = existsSync(p.cert);
    if (hasCert && existsSync(p.key)) continue;
    if (hasCert !== existsSync(p.key))
      throw new Error(`${dir}: ${stem}.pem and ${stem}-key.pem must both exist or both be absent`);
    const leaf: IssuedCertificate = await issueCertificate(ca, options);
    write(p.cert, leaf.cert, false);
    write(p.key, leaf.key, true);
    created.push(`${stem}.pem`, `${stem}-key.pem`);
  }
  return { dir, ca: caPaths, leaves, created };
}

const USAGE = 'usage: vpm-gateway certs dev [--dir DIR]   (default DIR: certs/dev)\n';

export async function runCerts(args: string[], out: Io): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: { dir: { type: 'string', short: 'd' }, help: { type: 'boolean', short: 'h' } },
    });
  } catch (err) {
    out.stderr(`${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (parsed.values.help) {
    out.stdout(USAGE);
    return 0;
  }
  if (parsed.positionals[0] !== 'dev' || parsed.positionals.length > 1) {
    out.stderr(USAGE);
    return 2;
  }
  const dir = parsed.values.dir ?? DEFAULT_DEV_DIR;
  try {
    const pki = await ensureDevPki(dir);
    out.stdout(
      pki.created.length > 0
        ? `${dir}: created ${pki.created.join(', ')}\n`
        : `${dir}: development PKI already present, nothing changed\n`,
    );
    out.stdout(`CA for clients and providers to trust: ${pki.ca.cert}\n`);
    return 0;
  } catch (err) {
    out.stderr(`certs dev: ${(err as Error).message}\n`);
    return 1;
  }
}
