// Private key material that every local user may read is as good as handed out: in production the gateway
// refuses such a file, naming the config path that leads to it, as ssh and PostgreSQL refuse their keys.
// Group access stays allowed (root:service 0640 is a common way to hand a key to a service); on
// Kubernetes, mount secrets with `defaultMode: 0440` or `0400` (its default, 0644, is refused).
// Checked: every file a configured path names that holds a PEM private key (server, store and provider
// keys, the audit checkpoint key), the key set in `keys.dir` (token keys and cookie secrets), and the audit
// secrets kept beside the checkpoint key. Secrets given inline or as `{ env }` / `{ file }` are values by
// then, not files.
import { closeSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { GatewayConfig } from './load.ts';

type Problem = [path: string, message: string];

/** read, write or execute for every local user */
const OTHERS = 0o007;
/** enough of a file to find its PEM header or a JWK's private member */
const HEAD_BYTES = 64 * 1024;
const PRIVATE_PEM = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/;
/** a JWK's private members (RFC 7518 6.2.2, 6.3.2; 6.4.1 for "k") */
const PRIVATE_JWK = /"(?:d|k)"\s*:/;

function head(path: string): string | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const buf = Buffer.alloc(HEAD_BYTES);
    return buf.toString('utf8', 0, readSync(fd, buf, 0, HEAD_BYTES, 0));
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** The mode of a regular file others may use, as `0644`; undefined when it is kept to owner and group. */
function exposedMode(path: string): string | undefined {
  try {
    const stat = statSync(path);
    if (!stat.isFile() || (stat.mode & OTHERS) === 0) return undefined;
    return (stat.mode & 0o777).toString(8).padStart(4, '0');
  } catch {
    return undefined;
  }
}

const problemOf = (at: string, file: string, mode: string): Problem => [
  at,
  `${file} holds private key material every local user may ${Number.parseInt(mode, 8) & 0o004 ? 'read' : 'write or run'} (mode ${mode}): chmod o-rwx (600, or 640 for the service's group)`,
];

/** Strings of the configuration that name a file holding a PEM private key open to others. */
function configuredKeyFiles(value: unknown, at: string, out: Problem[]): void {
  if (typeof value === 'string') {
    if (value.length > 4096 || value.includes('\n') || value.includes('://')) return;
    const mode = exposedMode(value);
    if (mode && PRIVATE_PEM.test(head(value) ?? '')) out.push(problemOf(at, value, mode));
  } else if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) configuredKeyFiles(v, `${at}[${i}]`, out);
  } else if (value && typeof value === 'object')
    for (const [k, v] of Object.entries(value)) configuredKeyFiles(v, `${at}.${k}`, out);
}

/** The key set's files (private JWKs, cookie secrets, PEM keys) open to others. */
function keyDirFiles(dir: string): Problem[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return []; // not there yet: `start` creates it with 0700
  }
  return names.sort().flatMap((name): Problem[] => {
    const file = join(dir, name);
    const mode = exposedMode(file);
    const text = mode ? (head(file) ?? '') : '';
    const secret = name.endsWith('.secret') || PRIVATE_PEM.test(text) || PRIVATE_JWK.test(text);
    return mode && secret ? [problemOf('keys.dir', file, mode)] : [];
  });
}

/** Every private key file of the configuration that every local user may read (production refuses them). */
export function exposedKeyFileProblems(config: GatewayConfig): Problem[] {
  const out: Problem[] = [];
  const { providers, keys, audit, ...rest } = config;
  for (const [field, value] of Object.entries(rest)) configuredKeyFiles(value, field, out);
  configuredKeyFiles(audit.signing_key, 'audit.signing_key', out);
  providers.forEach((provider, i) => {
    for (const [field, value] of Object.entries(provider.config))
      configuredKeyFiles(value, `providers[${i}].${field}`, out);
  });
  out.push(...keyDirFiles(keys.dir));
  // the secrets the audit log keeps beside its checkpoint key when none is configured
  const beside = dirname(resolve(audit.signing_key));
  for (const [key, name] of [
    ['subject_hash_key', 'subject-hash.key'],
    ['entry_mac_key', 'entry-mac.key'],
  ] as const) {
    const mode = audit[key] === undefined ? exposedMode(join(beside, name)) : undefined;
    if (mode) out.push(problemOf(`audit.${key}`, join(beside, name), mode));
  }
  return out;
}
