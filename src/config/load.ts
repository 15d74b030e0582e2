// Load and validate the configuration file. Every problem is reported with its exact path
// (`clients[1].redirect_uris[0]: must be https in production`) and none is fatal until all are collected.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { gatewaySchema, type GatewayFileConfig } from './schema.ts';
import { formatPath } from './path.ts';
import { providerBaseSchema, type ProviderBaseConfig } from './provider-base.ts';
import type { AdapterFactory } from '../broker/adapter.ts';

/** One provider entry as loaded: its kind's factory and the entry as that factory's schema parsed it. */
export interface ProviderEntry<C extends ProviderBaseConfig = ProviderBaseConfig> {
  factory: AdapterFactory<C>;
  config: C;
}

/** Whether a loaded entry is of the kind `factory` registers, with its config typed accordingly. */
export function isEntryOf<C extends ProviderBaseConfig>(
  entry: ProviderEntry,
  factory: AdapterFactory<C>,
): entry is ProviderEntry<C> {
  return entry.factory === factory;
}

export interface GatewayConfig extends Omit<GatewayFileConfig, 'providers'> {
  providers: ProviderEntry[];
  /** sha256 of the file as read, for the audit log */
  digest: string;
  path: string;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.problems = problems;
  }
}

/**
 * What the command was given cannot be read as a configuration at all: the file is missing, unreadable, too
 * large, not YAML or not a mapping, or PORT in the environment is no port number. Unlike a configuration
 * that reads but is refused, the command has nothing to check or run (the CLI's exit 2, src/cli/command.ts).
 */
export class ConfigInputError extends ConfigError {
  override name = 'ConfigInputError';
}

const MAX_CONFIG_BYTES = 1024 * 1024;

function issues(error: z.ZodError, prefix: readonly PropertyKey[] = []): string[] {
  return error.issues.map((i) => `${formatPath([...prefix, ...i.path])}: ${i.message}`);
}

export interface LoadOptions {
  /** adapter factories by kind */
  factories: ReadonlyMap<string, AdapterFactory>;
  env?: NodeJS.ProcessEnv;
}

/** Parse YAML text into a validated config; throws ConfigError listing every problem. */
/**
 * The issuer once PORT moves a gateway that serves its issuer itself on this machine (a loopback issuer
 * on the file's port, as the demo's `http://localhost:3000`): it follows the port, so the printed link,
 * the demo's redirect URIs and the in-process test peers (all `${issuer}`) stay right. Any other issuer
 * (a public name behind a proxy) is left as it is.
 */
function issuerOnPort(issuer: unknown, filePort: unknown, port: number): unknown {
  if (typeof issuer !== 'string' || port === 0) return issuer;
  let url: URL;
  try {
    url = new URL(issuer);
  } catch {
    return issuer; // the schema reports it
  }
  const served = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
  if (!loopback || served !== (typeof filePort === 'number' ? filePort : 3000)) return issuer;
  url.port = String(port);
  return url.toString().replace(/\/$/, issuer.endsWith('/') ? '/' : '');
}

export function parseConfig(text: string, path: string, { factories, env = process.env }: LoadOptions): GatewayConfig {
  if (Buffer.byteLength(text) > MAX_CONFIG_BYTES)
    throw new ConfigInputError([`${path}: file larger than ${MAX_CONFIG_BYTES} bytes`]);
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length) throw new ConfigInputError(doc.errors.map((e) => `${path}: ${e.message.split('\n')[0]}`));
  const raw = doc.toJS({ maxAliasCount: 50 }) as unknown;
  if (!raw || typeof raw !== 'object' || Array.isArray(raw))
    throw new ConfigInputError([`${path}: must be a mapping of settings`]);
  const input = { ...(raw as Record<string, unknown>) };
  // PORT and ISSUER override the file (containers, the newcomer's path). Set but empty (`PORT=`, an env
  // file's `PORT=`) is unset, as shells take it; anything else but digits (Number() reads '' and ' 3923'
  // as numbers) is refused before it could move the listener away from the issuer's port
  if (env.PORT) {
    const port = Number(env.PORT);
    if (!/^\d{1,5}$/.test(env.PORT) || port > 65535)
      throw new ConfigInputError([
        `PORT: must be a port number from 1 to 65535 (or 0: any free port), got ${JSON.stringify(env.PORT)}`,
      ]);
    if (!env.ISSUER) input.issuer = issuerOnPort(input.issuer, input.port, port);
    input.port = port;
  }
  if (env.ISSUER) input.issuer = env.ISSUER;
  // VPM_HOST sets server.host: a container publishes the demo, which binds loopback by default (not HOST,
  // which some shells and CI systems export as the machine name)
  if (env.VPM_HOST) {
    const server = input.server && typeof input.server === 'object' ? input.server : {};
    input.server = { ...server, host: env.VPM_HOST };
  }

  // `${issuer}` in any string stands for the effective issuer, so URLs that point back at the gateway
  // (the demo's redirect URIs and in-process test banks) follow ISSUER and PORT overrides
  if (typeof input.issuer === 'string') {
    const issuer = input.issuer.replace(/\/$/, '');
    const substitute = (v: unknown): unknown =>
      typeof v === 'string'
        ? // biome-ignore lint/suspicious/noTemplateCurlyInString: `${issuer}` is the config file's own placeholder
          v.replaceAll('${issuer}', issuer)
        : Array.isArray(v)
          ? v.map(substitute)
          : v && typeof v === 'object'
            ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, substitute(x)]))
            : v;
    for (const key of Object.keys(input)) if (key !== 'issuer') input[key] = substitute(input[key]);
  }

  const problems: string[] = [];
  const parsed = gatewaySchema.safeParse(input);
  if (!parsed.success) problems.push(...issues(parsed.error));

  const providers: ProviderEntry[] = [];
  const rawProviders = Array.isArray(input.providers) ? (input.providers as unknown[]) : [];
  const ids = new Set<string>();
  rawProviders.forEach((entry, i) => {
    const type = (entry as { type?: unknown } | null)?.type;
    const factory = typeof type === 'string' ? factories.get(type) : undefined;
    if (!factory) {
      problems.push(`providers[${i}].type: must be one of ${[...factories.keys()].join(', ')}`);
      return;
    }
    const result = factory.schema.safeParse(entry);
    if (!result.success) {
      problems.push(...issues(result.error, ['providers', i]));
      return;
    }
    const data: Record<string, unknown> = result.data;
    const base = providerBaseSchema.safeParse(
      Object.fromEntries(
        Object.keys(providerBaseSchema.shape)
          .map((k) => [k, data[k]])
          .filter(([, v]) => v !== undefined),
      ),
    );
    if (!base.success) {
      problems.push(...issues(base.error, ['providers', i]));
      return;
    }
    if (ids.has(base.data.id))
      problems.push(`providers[${i}].id: duplicate provider id ${JSON.stringify(base.data.id)}`);
    ids.add(base.data.id);
    providers.push({ factory, config: result.data });
  });

  if (parsed.success) problems.push(...crossChecks(parsed.data, ids));
  if (problems.length) throw new ConfigError(problems);
  const data = parsed.data!;
  return { ...data, providers, digest: `sha256:${createHash('sha256').update(text).digest('hex')}`, path };
}

/** Rules that span several settings, and what production mode demands. */
function crossChecks(config: GatewayFileConfig, providerIds: Set<string>): string[] {
  const out: string[] = [];
  const prod = config.production;
  if (prod && !config.issuer.startsWith('https://')) out.push('issuer: must be https in production');
  // without cookie_keys the cookie keys come from the key set in keys.dir (rotated by `vpm-gateway keys rotate`)
  (config.cookie_keys ?? []).forEach((k, i) => {
    if (prod && k.length < 32) out.push(`cookie_keys[${i}]: must be at least 32 characters in production`);
  });
  if (prod && config.demo.enabled) out.push('demo.enabled: the demo must be off in production');
  if (config.clients.some((client) => client.subject_type === 'pairwise') && !config.pairwise_salt)
    out.push('pairwise_salt: required when a client uses subject_type pairwise');
  const clientIds = new Set<string>();
  config.clients.forEach((client, i) => {
    const at = `clients[${i}]`;
    if (clientIds.has(client.client_id))
      out.push(`${at}.client_id: duplicate client id ${JSON.stringify(client.client_id)}`);
    clientIds.add(client.client_id);
    // the personal code names the person alike to every service: with it a pairwise sub hides nothing
    if (client.subject_type === 'pairwise' && client.scopes.includes('personal_code'))
      out.push(`${at}.scopes: a pairwise client must not be offered personal_code (list its scopes without it)`);
    client.redirect_uris.forEach((u, j) => {
      if (prod && !u.startsWith('https://')) out.push(`${at}.redirect_uris[${j}]: must be https in production`);
      if (u.includes('#')) out.push(`${at}.redirect_uris[${j}]: must not contain a fragment`);
    });
    client.post_logout_redirect_uris.forEach((u, j) => {
      if (prod && !u.startsWith('https://'))
        out.push(`${at}.post_logout_redirect_uris[${j}]: must be https in production`);
    });
    // the service's keys: client assertions, request objects and ID token encryption all trust this set
    if (prod && client.jwks_uri && !client.jwks_uri.startsWith('https://'))
      out.push(`${at}.jwks_uri: must be https in production`);
    const method = client.token_endpoint_auth_method;
    if ((method === 'client_secret_basic' || method === 'client_secret_post') && !client.client_secret)
      out.push(`${at}.client_secret: required for ${method}`);
    if (client.client_secret && prod && client.client_secret.length < 32)
      out.push(`${at}.client_secret: must be at least 32 characters in production`);
    if ((method === 'private_key_jwt' || method === 'self_signed_tls_client_auth') && !client.jwks && !client.jwks_uri)
      out.push(`${at}.jwks: required for ${method} (or jwks_uri)`);
    if (method === 'tls_client_auth' && !client.tls_client_auth_subject_dn)
      out.push(`${at}.tls_client_auth_subject_dn: required for tls_client_auth`);
    (client.providers ?? []).forEach((p, j) => {
      if (!providerIds.has(p)) out.push(`${at}.providers[${j}]: unknown provider ${JSON.stringify(p)}`);
    });
  });
  if (config.demo.enabled && !clientIds.has(config.demo.client_id))
    out.push(`demo.client_id: no client ${JSON.stringify(config.demo.client_id)} is configured`);
  return out;
}

export function loadConfigFile(path: string, options: LoadOptions): GatewayConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigInputError([
      `${path}: cannot read configuration file (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
    ]);
  }
  return parseConfig(text, path, options);
}
