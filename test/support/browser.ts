// A minimal browser for end-to-end tests: a cookie jar (honouring Path) on top of fetch, no automatic
// redirects, so each hop of a login can be asserted. It parses auto-submitting forms like a browser runs them,
// reading each page and submitting its forms in the page's character set.
import { Agent, fetch as undiciFetch } from 'undici';
import { charsetOf, urlencodedIn } from './form-encoding.ts';
export interface Hop {
  status: number;
  url: string;
  location?: string | undefined;
  body: string;
  headers: Headers;
  /** the charset the page was read in, and its forms are submitted in */
  charset?: string;
}

interface Cookie {
  name: string;
  value: string;
  path: string;
  host: string;
}

export class Browser {
  private cookies: Cookie[] = [];
  readonly history: Hop[] = [];
  private readonly dispatcher: Agent | undefined;

  /** `localAddress`: the source address of its connections (any of 127.0.0.0/8 on Linux), to act as
   * another client address. */
  constructor(options: { localAddress?: string } = {}) {
    this.dispatcher = options.localAddress ? new Agent({ localAddress: options.localAddress }) : undefined;
  }

  /** The Cookie header this browser sends to `url` (for a request made by other means). */
  cookieHeader(url: URL): string {
    return this.cookies
      .filter((c) => c.host === url.host && url.pathname.startsWith(c.path))
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');
  }

  /** The cookies this browser holds for `url`'s host under paths starting with `prefix`, as another host of
   * the same site could plant them in a second browser (a `Domain=` cookie; `__Host-` ones excepted). */
  plantIn(other: Browser, url: URL, prefix: string): void {
    for (const c of this.cookies)
      if (c.host === url.host && c.path.startsWith(prefix) && !c.name.startsWith('__Host-'))
        other.cookies.push({ ...c });
  }

  private store(url: URL, headers: Headers): void {
    for (const line of headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      let path = '/';
      let expired = false;
      for (const a of attrs) {
        const [k, v] = a.trim().split('=');
        if (k?.toLowerCase() === 'path' && v) path = v;
        if (k?.toLowerCase() === 'expires' && v && new Date(v).getTime() < Date.now()) expired = true;
        if (k?.toLowerCase() === 'max-age' && Number(v) <= 0) expired = true;
      }
      this.cookies = this.cookies.filter((c) => !(c.name === name && c.path === path && c.host === url.host));
      if (!expired) this.cookies.push({ name, value, path, host: url.host });
    }
  }

  async request(
    method: 'GET' | 'POST',
    target: string,
    form?: Record<string, string>,
    charset = 'utf-8',
  ): Promise<Hop> {
    const url = new URL(target);
    const headers: Record<string, string> = { 'accept-language': 'en' };
    const cookie = this.cookieHeader(url);
    if (cookie) headers.cookie = cookie;
    let body: string | undefined;
    if (form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = urlencodedIn(form, charset);
    }
    const res = this.dispatcher
      ? await undiciFetch(url, { method, headers, body, redirect: 'manual', dispatcher: this.dispatcher })
      : await fetch(url, { method, headers, body, redirect: 'manual' });
    this.store(url, res.headers);
    const location = res.headers.get('location') ?? undefined;
    const pageCharset = charsetOf(res.headers);
    const hop: Hop = {
      status: res.status,
      url: url.toString(),
      location: location ? new URL(location, url).toString() : undefined,
      body: new TextDecoder(pageCharset).decode(await res.arrayBuffer()),
      headers: res.headers,
      charset: pageCharset,
    };
    this.history.push(hop);
    return hop;
  }

  get(url: string): Promise<Hop> {
    return this.request('GET', url);
  }

  /** Submit `form` in `charset` (that of the page holding it: a Hop's). */
  post(url: string, form: Record<string, string>, charset?: string): Promise<Hop> {
    return this.request('POST', url, form, charset);
  }

  /** Follow redirects (and auto-submitting forms) until `stop` says so or a page needs a person. */
  async follow(start: Hop, stop: (hop: Hop) => boolean = () => false, max = 20): Promise<Hop> {
    let hop = start;
    for (let i = 0; i < max; i += 1) {
      if (stop(hop)) return hop;
      if (hop.location && hop.status >= 300 && hop.status < 400) {
        hop = await this.get(hop.location);
        continue;
      }
      const autopost = parseAutoPost(hop.body, hop.url);
      if (autopost) {
        hop = await this.post(autopost.action, autopost.fields, hop.charset);
        continue;
      }
      return hop;
    }
    throw new Error('too many redirects');
  }
}

function unescapeHtml(s: string): string {
  return s
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

/** The page's form with id="autopost" (or the one given): its target, its method (a form without one is
 * submitted by GET, its fields in the URL) and its fields, as a browser would submit it. */
export function parseAutoPost(
  body: string,
  base: string,
  id = 'autopost',
): { action: string; method: 'GET' | 'POST'; fields: Record<string, string> } | undefined {
  const form = new RegExp(`(<form[^>]*id="${id}"[^>]*>)([\\s\\S]*?)</form>`).exec(body);
  if (!form) return undefined;
  const action = /action="([^"]*)"/.exec(form[1]!)?.[1];
  if (!action) return undefined;
  const method = /\smethod="post"/i.test(form[1]!) ? 'POST' : 'GET';
  return { action: new URL(unescapeHtml(action), base).toString(), method, fields: formFields(form[2]!) };
}

export function formFields(fragment: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const m of fragment.matchAll(/<input[^>]*>/g)) {
    const name = /name="([^"]*)"/.exec(m[0])?.[1];
    const value = /value="([^"]*)"/.exec(m[0])?.[1] ?? '';
    if (name) fields[unescapeHtml(name)] = unescapeHtml(value);
  }
  return fields;
}
