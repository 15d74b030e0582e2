// What an adapter kind declares to the core, in one object: its config schema, how to open an adapter,
// and its capabilities: the back channels that need mutual TLS in production, its own rules (each
// problem naming its path in the entry), key material the generic checks could not find by field
// name, and the in-process peer the demo mounts. The core reads only these declarations, never a kind's
// name; whatever a kind leaves out gets the strictest reading (no `backChannels`: it has one).
import type { IncomingMessage } from 'node:http';
import type { RequestHandler, Router } from 'express';
import type { z } from 'zod';
import type { AuditLog } from '../audit/events.ts';
import type { ProviderBaseConfig } from '../config/provider-base.ts';
import type { Logger } from '../logger.ts';
import type { Store } from '../store/store.ts';
import type { ProviderAdapter } from '../broker/adapter.ts';

/** A path inside one provider entry: `['url']`, `['metadata', 'jwks_uri']`, `['idp', 'certificates', 0]`. */
export type EntryPath = readonly (string | number)[];

export interface AdapterDeps {
  store: Store;
  audit: AuditLog;
  logger: Logger;
  /** the gateway's public base URL (issuer origin) */
  baseUrl: string;
  production: boolean;
  /** directory for generated key material (SP keys and the like) */
  keyDir: string;
  /** the digest of the browser binding a request to the adapter's own pages carries (undefined: none), to
   * compare with StartContext.browser in constant time: a login's pages serve only the browser that began it */
  browserOf(req: IncomingMessage): string | undefined;
}

/** What an adapter kind's own rules may depend on besides its entry. */
export interface AdapterCheckContext {
  production: boolean;
  /** the gateway's public base URL (issuer origin) */
  baseUrl: string;
}

/** One problem with a provider entry; `path` is relative to the entry (`['url']`, `['metadata', 'jwks_uri']`). */
export interface AdapterProblem {
  path: EntryPath;
  message: string;
}

/**
 * Key material or an algorithm an entry implies, for the startup checks (RSA sizes, certificate validity,
 * weak algorithms). Fields named like key material (`cert`, `key`, `private_key`, `*_certificate`, `alg`,
 * `hash`...) are found without being declared; declare what their names do not reveal.
 */
export type KeyMaterial =
  /** a PEM file (or inline PEM) of certificates and keys */
  | { path: EntryPath; pem: string }
  /** an algorithm in effect, e.g. the SHA-1 that banklink VK_VERSION 008 implies without naming it */
  | { path: EntryPath; algorithm: string };

/** A router the demo mounts on the gateway's own server, at `path` (under `/demo/`). */
export interface DemoMount {
  path: string;
  router: Router | RequestHandler;
}

/** The in-process test peer (test bank, test IdP, test OP) that the demo mounts for this kind's entries. */
export interface DemoPeer<C> {
  /** Create the key files the demo configuration names; runs before the configuration is loaded. */
  prepareMaterial?(): Promise<void>;
  /** Why the entries pointing at the peer could not work with it, as `config check` and `start` report it
   * (no side effects). */
  check?(entries: readonly C[], ctx: { issuer: string }): string[];
  /** Routers serving the entries that point at the peer (an empty list when none does). */
  mount(entries: readonly C[], ctx: { issuer: string; keyDir: string }): Promise<DemoMount[]>;
}

/**
 * A registered adapter kind. `C` is what `schema` parses one provider entry into; every capability gets
 * that parsed entry.
 *
 * @example
 * export const factory: AdapterFactory<ExampleConfig> = {
 *   kind: 'example',
 *   schema: providerBaseSchema.extend({ type: z.literal('example'), url: z.url() }),
 *   backChannels: () => [], // browser redirects only: no mutual TLS needed
 *   check: (config, ctx) =>
 *     ctx.production && !config.url.startsWith('https:') ? [{ path: ['url'], message: 'must be https in production' }] : [],
 *   create: (config, deps) => new ExampleAdapter(config, deps),
 * };
 */
export interface AdapterFactory<C extends ProviderBaseConfig = ProviderBaseConfig> {
  readonly kind: string;
  /** zod schema of one provider entry of this kind (`id`, `type`, `name`, ... are common) */
  readonly schema: z.ZodType<C>;
  /**
   * The settings whose URLs the adapter calls server to server (discovery, token, metadata): each needs
   * mutual TLS (the entry's `tls`) in production. `[]`: everything travels through the browser. A kind
   * that leaves this out is taken to have a back channel.
   */
  backChannels?(config: C): EntryPath[];
  /**
   * The URLs the gateway or the browser reaches at the provider: the security probe checks their TLS.
   * Left out: every absolute URL in the entry. A kind whose entry also holds URIs that name things (SAML
   * attribute names and entity IDs) or plain-http URLs by design (OCSP), or whose addresses come from
   * elsewhere (a SAML metadata file), lists its own.
   */
  endpoints?(config: C): string[];
  /**
   * The kind's own rules (what production mode refuses, what no key may be), run by `config check` and
   * before `start` writes anything, each problem naming its path. Must not touch the network or write
   * files; may read the files the entry names. `create` refuses what these refuse (AdapterConfigError).
   */
  check?(config: C, ctx: AdapterCheckContext): AdapterProblem[] | Promise<AdapterProblem[]>;
  /** Key material and algorithms the entry implies beyond its key-named fields (see KeyMaterial). */
  keyMaterial?(config: C): KeyMaterial[];
  /** The test peer the development demo mounts in-process, if the kind has one. */
  readonly demoPeer?: DemoPeer<C>;
  /** What `providers scaffold --kind KIND NAME` writes for a new provider of this kind, if it offers a kit. */
  readonly kit?: EntryKit;
  create(config: C, deps: AdapterDeps): Promise<ProviderAdapter> | ProviderAdapter;
}

/** A kind's entry kit (src/onboarding/scaffold/kit.ts): the parts of a new provider's entry, joining record
 * and conformance test that differ by kind. `NAME` in `entry` and `setup` stands for the provider's name. */
export interface EntryKit {
  /** bank (a credit institution) or eid (another eID provider): the entry's `kind`, the record's licence register */
  group: 'bank' | 'eid';
  /** the entry's own fields after `id`, `type`, `name`, `kind` and `loa`, each commented, indented as list items' fields */
  entry: string;
  /** for a kind with a back channel: why the entry has a `tls` block (its comment); the kit adds the block */
  tls?: string;
  /** the protocol settings the kit's test takes from the entry, for its header */
  settings: string;
  /** the kind's test peer: its name, the module (from the repository's root) and the function that set it up */
  peer: { name: string; module: string; call: string };
  /** the test's code between reading `entry` and running the suite, if the call needs more than `entry` */
  setup?: string;
  /** the call's arguments (default `entry`) */
  args?: string;
}

/** Thrown when an adapter is created from an entry its kind's `check` refuses (callers that skipped the check). */
export class AdapterConfigError extends Error {
  override name = 'AdapterConfigError';
  readonly problems: AdapterProblem[];
  constructor(id: string, problems: AdapterProblem[]) {
    super(`provider ${id}: ${problems.map((p) => `${p.path.join('.')}: ${p.message}`).join('; ')}`);
    this.problems = problems;
  }
}

/** Run the kind's rules the way `create` must: refuse the entry when any applies. */
export async function refuseUnchecked<C extends ProviderBaseConfig>(
  factory: Pick<AdapterFactory<C>, 'check'>,
  config: C,
  ctx: AdapterCheckContext,
  ignore: (problem: AdapterProblem) => boolean = () => false,
): Promise<void> {
  const problems = ((await factory.check?.(config, ctx)) ?? []).filter((p) => !ignore(p));
  if (problems.length) throw new AdapterConfigError(config.id, problems);
}

/** The back-channel rule every kind shares: a server-to-server channel needs mutual TLS in production. */
export function backChannelProblems<C extends ProviderBaseConfig>(
  factory: Pick<AdapterFactory<C>, 'backChannels'>,
  config: C,
  production: boolean,
): AdapterProblem[] {
  if (!production || (config.tls?.cert && config.tls.key)) return [];
  const channels = factory.backChannels ? factory.backChannels(config) : [[]];
  if (!channels.length) return [];
  // a tls block with only `ca` (server-authenticated TLS) is for development: production wants the client certificate too
  const message = config.tls
    ? 'a provider with a back channel needs mutual TLS in production: tls has only ca, give cert and key as well'
    : 'a provider with a back channel needs mutual TLS in production';
  return [{ path: ['tls'], message }];
}
