// `vpm-gateway certs dev [--dir certs/dev]`: the development PKI for the demo and tests. Idempotent:
// existing files are kept, only missing ones are issued (from the existing CA when there is one).
// Custom material (expired, not yet valid, other names or CAs) comes from src/tls/pki.ts directly.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  createCa,
  issueCertificate,
  loadCa,
  type CertificateAuthority,
  type IssuedCertificate,
  type LeafOptions,
} from '../tls/pki.ts';
import { command, emit, EXIT_FAILED, EXIT_OK, group } from './command.ts';

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

/** Private keys owner-only (0600); certificates, the CA's included, readable by everyone (0644), so a web
 * server's user can read the CA it must trust where it is. Set explicitly: the umask does not narrow it. */
const modeOf = (secret: boolean) => (secret ? 0o600 : 0o644);

function write(path: string, content: string, secret: boolean): void {
  // `wx` never overwrites an existing file
  writeFileSync(path, content, { mode: modeOf(secret), flag: 'wx' });
  chmodSync(path, modeOf(secret));
}

function paths(dir: string, stem: string): { cert: string; key: string } {
  return { cert: join(dir, `${stem}.pem`), key: join(dir, `${stem}-key.pem`) };
}

/** Creates what is missing in `dir` and returns the paths of the whole dev PKI. */
export async function ensureDevPki(dir: string = DEFAULT_DEV_DIR): Promise<DevPki> {
  // the folder is public (0755): it holds public certificates; each private key is 0600 itself. Resolved
  // first: in a working directory that was removed, Node's recursive mkdir of a relative path retries for
  // ever (ENOENT at every level), while resolving it fails at once
  mkdirSync(resolve(dir), { recursive: true, mode: 0o755 });
  chmodSync(dir, 0o755);
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
    const files = paths(dir, stem);
    leaves[stem] = files;
    const hasCert = existsSync(files.cert);
    if (hasCert && existsSync(files.key)) continue;
    if (hasCert !== existsSync(files.key))
      throw new Error(`${dir}: ${stem}.pem and ${stem}-key.pem must both exist or both be absent`);
    const leaf: IssuedCertificate = await issueCertificate(ca, options);
    write(files.cert, leaf.cert, false);
    write(files.key, leaf.key, true);
    created.push(`${stem}.pem`, `${stem}-key.pem`);
  }
  // files kept from an earlier run get the same modes (an older version made the folder owner-only)
  for (const p of [caPaths, ...Object.values(leaves)]) {
    chmodSync(p.cert, modeOf(false));
    chmodSync(p.key, modeOf(true));
  }
  return { dir, ca: caPaths, leaves, created };
}

const dev = command({
  name: 'certs dev',
  synopsis: '[--dir DIR] [options]',
  summary:
    'Creates what is missing of the development PKI in DIR (default certs/dev): a CA, a server certificate\n' +
    'for localhost and client certificates for the gateway and the demo agency. Existing files are kept.\n' +
    'It reads no configuration: --config is accepted, as by every command, and not used.',
  help: [['-d, --dir DIR', 'where the PKI lives (default certs/dev)']],
  options: { dir: { type: 'string', short: 'd' } },
  maxPositionals: 0,
  async run({ values, io, json }) {
    const dir = values.dir ?? DEFAULT_DEV_DIR;
    let pki: DevPki;
    try {
      pki = await ensureDevPki(dir);
    } catch (err) {
      io.stderr(`certs dev: ${(err as Error).message}\n`);
      return EXIT_FAILED;
    }
    const created =
      pki.created.length > 0 ? `created ${pki.created.join(', ')}` : 'development PKI already present, nothing changed';
    emit(
      { io, json },
      { dir, created: pki.created, ca: pki.ca.cert },
      `${dir}: ${created}\nCA for clients and providers to trust: ${pki.ca.cert}\n`,
    );
    return EXIT_OK;
  },
});

export const runCerts = group({
  name: 'certs',
  help: [['dev [--dir DIR]', 'create the development PKI (CA, server and client certificates)']],
  commands: { dev: async () => dev },
});
