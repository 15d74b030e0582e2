// What production mode refuses beyond the schema and the key-material checks: anything meant only for
// development (the in-process demo peers), secrets too short to resist guessing, a Redis that holds
// whole identities without TLS or a password, certificate authentication trusting the process's
// default CA store, and a plain http listener that is not behind a named TLS terminator (nor behind a
// "terminator" block that takes in every address), and private key files every local user may read
// (./key-file-modes.ts).
// Every problem names its config path. Adapter kinds add their own rules (AdapterFactory.check).
import { isAbsolute, normalize, relative } from 'node:path';
import type { GatewayConfig } from './load.ts';
import { parseRedisUrl, type RedisTarget } from '../store/redis-url.ts';
import { addressBlock } from '../tls/address-blocks.ts';
import { forEachString } from './config-strings.ts';
import { exposedKeyFileProblems } from './key-file-modes.ts';

/** Generated demo key material (test banks, test SAML IdP) lives here; nothing in it is a production secret. */
export const DEMO_MATERIAL_DIR = 'var/dev';

/** Secrets that key an HMAC over guessable input (personal codes, cookie values) need this many characters. */
export const MIN_SECRET_LENGTH = 32;

/** Seconds after which openid-client (oauth4webapi) refetches a cached JWKS that lacks a token's kid. */
export const RP_JWKS_REFETCH_AGE = 60;

type Problem = [path: string, message: string];

export function underDemoMaterial(file: string): boolean {
  const rel = relative(process.cwd(), isAbsolute(file) ? file : normalize(file));
  return rel === DEMO_MATERIAL_DIR || rel.startsWith(`${DEMO_MATERIAL_DIR}/`);
}

/** A string of a provider entry that points at the gateway's in-process demo peers or their key material. */
function demoPeerReference(value: string, at: string, demoBase: string, out: Problem[]): void {
  if (value.startsWith(demoBase))
    out.push([at, `points at the in-process demo peers under ${demoBase} (development only); refused in production`]);
  else if (!value.includes('://') && !value.includes('\n') && underDemoMaterial(value))
    out.push([at, `is demo key material under ${DEMO_MATERIAL_DIR}/ (development only); refused in production`]);
}

/** Redis holds sessions, grants and verified identities: production needs TLS and a password, for one
 * server, Sentinel (TLS to the Sentinels too) and Cluster alike. */
function redisProblems(store: { url: string; password?: string | undefined }): Problem[] {
  let target: RedisTarget;
  try {
    target = parseRedisUrl(store.url);
  } catch {
    return []; // the schema reported it, without echoing the URL (it may carry the password)
  }
  const out: Problem[] = [];
  const scheme = target.mode === 'standalone' ? 'rediss://' : `rediss+${target.mode}://`;
  if (!target.tls) out.push(['store.url', `must use TLS (${scheme}) in production: the store holds whole identities`]);
  // store.password counts as well
  if (!target.password && !store.password)
    out.push(['store.url', 'must carry a password (rediss://:PASSWORD@host or user:PASSWORD) in production']);
  return out;
}

/** RFC 8705 tls_client_auth trusts a certificate only as far as its chain: without a CA the default store decides. */
function clientCaProblems(config: GatewayConfig): Problem[] {
  const users = config.clients.flatMap((client, i) =>
    client.token_endpoint_auth_method === 'tls_client_auth' ? [`clients[${i}]`] : [],
  );
  if (!users.length) return [];
  const who = `${users.join(', ')} ${users.length > 1 ? 'use' : 'uses'} tls_client_auth`;
  const server = config.server;
  const native =
    !!server?.tls &&
    (server.mtls?.port !== undefined || server.tls.request_client_certificate === true || !!server.tls.client_ca);
  const out: Problem[] = [];
  if (native && !server!.tls!.client_ca)
    out.push([
      'server.tls.client_ca',
      `required in production: ${who}, and without it any certificate of the process's default CA store would be accepted`,
    ]);
  if (server?.client_certificate_header && !server.client_certificate_header.client_ca && !server.tls?.client_ca) {
    out.push([
      'server.client_certificate_header.client_ca',
      `required in production: ${who}, and forwarded certificates must chain to the agency CA`,
    ]);
  }
  if (!native && !server?.client_certificate_header)
    out.push([
      `${users[0]}.token_endpoint_auth_method`,
      'tls_client_auth needs client certificates: configure server.tls with client_ca, or server.client_certificate_header',
    ]);
  return out;
}

/**
 * openid-client (oauth4webapi) fetches a JWKS again for an unknown kid only once its copy is 60 s old
 * (jose's createRemoteJWKSet after 30 s): a key must be published that long on every instance before it
 * signs. (A missing key set is refused by `start` itself, src/keys/open.ts: production never generates one.)
 */
function keyProblems(config: GatewayConfig): Problem[] {
  const floor = config.keys.reload_interval + RP_JWKS_REFETCH_AGE;
  if (config.keys.publish_delay >= floor) return [];
  return [
    [
      'keys.publish_delay',
      `must be at least keys.reload_interval + ${RP_JWKS_REFETCH_AGE} (${floor}) in production: relying parties refetch a JWKS for an unknown kid only once their copy is ${RP_JWKS_REFETCH_AGE} s old`,
    ],
  ];
}

/** A trusted-proxy block so wide that nearly any peer is in it (`0.0.0.0/0`, `::/0`, `::ffff:0:0/96`): fewer
 * than 8 prefix bits of IPv4 (an IPv4-mapped block counts as the IPv4 block it names) or 16 of IPv6. Any
 * peer could then forward a client address (dodging the per-address limits) or a client certificate
 * (passing as an agency service at /token). */
function trustsAnyPeer(entry: string): boolean {
  const { family, bits } = addressBlock(entry);
  if (bits === undefined) return false;
  return bits < (family === 4 ? 8 : 16);
}

function proxyBlockProblems(config: GatewayConfig): Problem[] {
  const lists: [string, readonly string[]][] = [
    ['proxy', Array.isArray(config.proxy) ? config.proxy : []],
    [
      'server.client_certificate_header.trusted_proxies',
      config.server?.client_certificate_header?.trusted_proxies ?? [],
    ],
  ];
  return lists.flatMap(([path, entries]) =>
    entries.flatMap((entry, i): Problem[] =>
      trustsAnyPeer(entry)
        ? [[`${path}[${i}]`, `${entry} trusts nearly any peer; name the TLS terminators' own addresses or blocks`]]
        : [],
    ),
  );
}

/** Every production refusal of this section, as `path: message` lines (empty outside production). */
export function productionProblems(config: GatewayConfig): string[] {
  if (!config.production) return [];
  const out: Problem[] = [];
  if (config.pairwise_salt !== undefined && config.pairwise_salt.length < MIN_SECRET_LENGTH) {
    // a pairwise sub is an HMAC of a personal code: a short salt is found by trying salts against known codes
    out.push(['pairwise_salt', `must be at least ${MIN_SECRET_LENGTH} characters in production`]);
  }
  if (config.store.type === 'redis') out.push(...redisProblems(config.store));
  out.push(...keyProblems(config));
  if (config.proxy === true)
    out.push([
      'proxy',
      'true trusts X-Forwarded-For from any peer; name the TLS terminators (addresses or CIDR blocks) in production',
    ]);
  else if (!config.server?.tls && config.proxy === false)
    out.push([
      'proxy',
      'without server.tls the gateway listens on plain http: in production name the TLS terminators in front of it (addresses or CIDR blocks), or configure server.tls',
    ]);
  out.push(...proxyBlockProblems(config));
  out.push(...clientCaProblems(config));
  out.push(...exposedKeyFileProblems(config));
  const demoBase = `${config.issuer.replace(/\/$/, '')}/demo/`;
  config.providers.forEach((provider, i) => {
    for (const [field, value] of Object.entries(provider.config))
      if (field !== 'onboarding' && field !== 'name')
        forEachString(value, `providers[${i}].${field}`, (text, at) => demoPeerReference(text, at, demoBase, out));
  });
  return out.map(([path, message]) => `${path}: ${message}`);
}
