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
import { forEachString } from './config-strings.ts';
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

/** The permission bits of a regular file others may use; undefined when it is kept to owner and group. */
function exposedMode(path: string): number | undefined {
  try {
    const stat = statSync(path);
    if (!stat.isFile() || (stat.mode & OTHERS) === 0) return undefined;
    return stat.mode & 0o777;
  } catch {
    return undefined;
  }
}

const problemOf = (at: string, file: string, mode: number): Problem => [
  at,
  `${file} holds private key material every local user may ${mode & 0o004 ? 'read' : 'write or run'} (mode ${mode.toString(8).padStart(4, '0')}): chmod o-rwx (600, or 640 for the service's group)`,
];

/** Strings of the configuration that name a file holding a PEM private key open to others. */
function configuredKeyFiles(value: unknown, at: string, out: Problem[]): void {
  forEachString(value, at, (text, path) => {
    if (text.length > 4096 || text.includes('\n') || text.includes('://')) return;
    const mode = exposedMode(text);
    if (mode !== undefined && PRIVATE_PEM.test(head(text) ?? '')) out.push(problemOf(path, text, mode));
  });
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
    if (mode === undefined) return [];
    const text = head(file) ?? '';
    const secret = name.endsWith('.secret') || PRIVATE_PEM.test(text) || PRIVATE_JWK.test(text);
    return secret ? [problemOf('keys.dir', file, mode)] : [];
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
    if (mode !== undefined) out.push(problemOf(`audit.${key}`, join(beside, name), mode));
  }
  return out;
}
