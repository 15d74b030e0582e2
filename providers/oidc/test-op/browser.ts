// The user's browser against the test OP: follows redirects with a cookie jar, answers the login page,
// and stops at the first redirect that leaves the OP (the gateway's callback).
import { Agent, fetch } from 'undici';

export interface BrowserChoice {
  user?: string;
  acr?: string;
  amr?: string[];
  error?: { error: string; error_description?: string };
}

export class TestBrowser {
  private readonly origin: string;
  private readonly dispatcher: Agent;
  private readonly cookies = new Map<string, string>();

  constructor(issuer: string, caPem?: string) {
    this.origin = new URL(issuer).origin;
    this.dispatcher = new Agent({ connect: caPem ? { ca: caPem } : {} });
  }

  private cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  private remember(setCookies: string[]): void {
    for (const line of setCookies) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair!.indexOf('=');
      if (eq < 1) continue;
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      const expired =
        attrs.some((a) => /^\s*expires=Thu, 01 Jan 1970/i.test(a)) || attrs.some((a) => /^\s*max-age=0\s*$/i.test(a));
      if (expired || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  /** Each call is a fresh browser (no session at the OP from an earlier login) unless `keepSession`:
   * then it is the same browser again, still holding the OP's single sign-on session cookies. */
  async authorize(authorizationUrl: string, choice: BrowserChoice, o: { keepSession?: boolean } = {}): Promise<URL> {
    if (!o.keepSession) this.cookies.clear();
    let url = authorizationUrl;
    let method: 'GET' | 'POST' = 'GET';
    let body: string | undefined;
    for (let hop = 0; hop < 20; hop += 1) {
      if (new URL(url).origin !== this.origin) return new URL(url);
      const res = await fetch(url, {
        method,
        redirect: 'manual',
        dispatcher: this.dispatcher,
        headers: {
          cookie: this.cookieHeader(),
          ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
        },
        ...(body ? { body } : {}),
      });
      this.remember(res.headers.getSetCookie());
      if (res.status >= 300 && res.status < 400) {
        await res.arrayBuffer();
        url = new URL(res.headers.get('location') ?? '', url).href;
        method = 'GET';
        body = undefined;
        continue;
      }
      const text = await res.text();
      const interaction = /^\/interaction\/([A-Za-z0-9_-]+)$/.exec(new URL(url).pathname);
      if (res.status === 200 && interaction && method === 'GET') {
        const form = new URLSearchParams();
        if (choice.error) {
          form.set('error', choice.error.error);
          if (choice.error.error_description) form.set('error_description', choice.error.error_description);
        } else {
          form.set('user', choice.user ?? 'valid');
          if (choice.acr) form.set('acr', choice.acr);
          for (const a of choice.amr ?? []) form.append('amr', a);
        }
        url = `${this.origin}/interaction/${interaction[1]}/${choice.error ? 'abort' : 'login'}`;
        method = 'POST';
        body = form.toString();
        continue;
      }
      throw new Error(
        `test OP answered ${res.status} at ${new URL(url).pathname}: ${text.replace(/<[^>]+>/g, ' ').slice(0, 300)}`,
      );
    }
    throw new Error('too many redirects at the test OP');
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }
}
