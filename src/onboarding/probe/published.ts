// What a provider publishes, fetched live over its own back channel (the entry's `tls`: its CA, the
// gateway's client certificate) and checked for strong algorithms. Documents are recognised by their
// protocol, not by the adapter kind: SAML metadata, a JWKS, or an OpenID Provider whose discovery
// document lives under the URL (OpenID Connect Discovery 1.0 §4) and names its `jwks_uri`.
import type { ProviderEntry } from '../../config/load.ts';
import { createProviderTransport } from '../../tls/agent.ts';
import { BodyTooLargeError, readBoundedBody } from '../../tls/bounded-body.ts';
import {
  discoveryProblems,
  jwksProblems,
  parseSamlMetadata,
  samlMetadataProblems,
  samlSsoLocations,
} from './published-checks.ts';

export interface PublishedDocument {
  url: string;
  /** what was found there; `none` when the address answers but publishes no keys or algorithms */
  kind: 'openid-configuration' | 'jwks' | 'saml-metadata' | 'none' | 'unreachable';
  ok: boolean;
  problems: string[];
  /** SAML metadata: the SSO locations it names, which the probe reaches as the browser would */
  locations?: string[];
}

const MAX_BYTES = 1_000_000;
const TIMEOUT_MS = 10_000;

/** The URLs to look at: the kind's back channels (what the gateway itself fetches) and any `jwks_uri`. */
export function publishedUrls({ factory, config }: ProviderEntry): string[] {
  const urls = new Set<string>();
  const walk = (value: unknown, key?: string): void => {
    if (typeof value === 'string') {
      if (/^https?:\/\//.test(value) && (key === undefined || key === 'jwks_uri')) urls.add(value);
    } else if (Array.isArray(value)) for (const v of value) walk(v, key);
    else if (value && typeof value === 'object')
      for (const [k, v] of Object.entries(value)) walk(v, key === undefined ? undefined : k);
  };
  const channels = factory.backChannels ? factory.backChannels(config) : [[]];
  const at = (path: readonly (string | number)[]) =>
    path.reduce<unknown>((value, key) => (value as Record<string | number, unknown> | undefined)?.[key], config);
  for (const path of channels) if (path.length) walk(at(path));
  // `jwks_uri` anywhere in the entry (pinned static metadata) is fetched too
  walk({ ...config, tls: undefined }, '');
  return [...urls];
}

type Fetch = (url: string) => Promise<{ status: number; text: string } | { error: string }>;

function json(text: string): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(text);
    return value && typeof value === 'object' && !Array.isArray(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

async function inspect(url: string, get: Fetch, discover = true): Promise<PublishedDocument[]> {
  const answer = await get(url);
  if ('error' in answer) return [{ url, kind: 'unreachable', ok: false, problems: [answer.error] }];
  const text = answer.status === 200 ? answer.text : '';
  const metadata = parseSamlMetadata(text);
  if (metadata) {
    const problems = samlMetadataProblems(metadata);
    return [{ url, kind: 'saml-metadata', ok: !problems.length, problems, locations: samlSsoLocations(metadata) }];
  }
  const document = json(text);
  if (document && Array.isArray(document.keys)) {
    const problems = jwksProblems(document);
    return [{ url, kind: 'jwks', ok: !problems.length, problems }];
  }
  if (document && typeof document.jwks_uri === 'string' && typeof document.issuer === 'string') {
    const problems = discoveryProblems(document);
    const keys = await inspect(document.jwks_uri, get, false);
    if (keys[0]?.kind !== 'jwks' && keys[0]?.kind !== 'unreachable')
      keys[0] = { url: document.jwks_uri, kind: 'jwks', ok: false, problems: ['is not a JWKS'] };
    return [{ url, kind: 'openid-configuration', ok: !problems.length, problems }, ...keys];
  }
  if (discover) {
    const wellKnown = `${url.replace(/\/+$/, '')}/.well-known/openid-configuration`;
    const found = await inspect(wellKnown, get, false);
    if (found[0]?.kind === 'openid-configuration') return found;
  }
  if (answer.status >= 500) return [{ url, kind: 'unreachable', ok: false, problems: [`HTTP ${answer.status}`] }];
  return [{ url, kind: 'none', ok: true, problems: [] }];
}

export async function probePublished(entry: ProviderEntry): Promise<PublishedDocument[]> {
  const urls = publishedUrls(entry);
  if (!urls.length) return [];
  const transport = createProviderTransport(entry.config.id, entry.config.tls, {
    connectTimeout: TIMEOUT_MS,
    responseTimeout: TIMEOUT_MS,
  });
  const get: Fetch = async (url) => {
    try {
      const response = await transport.fetch(url, { redirect: 'error', headers: { accept: '*/*' } });
      // read up to the limit, not buffered whole first: a provider's document may be any size
      const body = await readBoundedBody(response, MAX_BYTES);
      return { status: response.status, text: new TextDecoder().decode(body) };
    } catch (err) {
      if (err instanceof BodyTooLargeError) return { error: `answers more than ${MAX_BYTES} bytes` };
      const cause = (err as Error & { cause?: Error }).cause;
      return { error: `cannot fetch: ${cause?.message ?? (err as Error).message}` };
    }
  };
  try {
    const documents: PublishedDocument[] = [];
    for (const url of urls) documents.push(...(await inspect(url, get)));
    return documents;
  } finally {
    await transport.close();
  }
}
