// The Smart-ID tests' user: a browser without scripts following the adapter's pages with plain HTTP, the
// test browser's binding cookie on every request (the pages serve a login only to the browser that began it).
import type { StartAction } from '../../src/broker/adapter.ts';
import { testBrowserCookie } from '../../test/support/broker.ts';
import type { Harness } from './test-harness.ts';
import type { PhoneAction } from './test-rp-api/sessions.ts';

export interface Visit {
  status: number;
  location: string | undefined;
  body: string;
}

/** The headers of the test browser (the one test logins begin in: its binding cookie) for `url`. */
export const asTestBrowser = (url: string): Record<string, string> => ({
  cookie: testBrowserCookie(new URL(url).origin),
});

/** A page of the adapter as the test browser sees it (`browser`: as another browser, without the cookie). */
export async function visit(url: string, form?: Record<string, string>, browser = asTestBrowser(url)): Promise<Visit> {
  const res = await fetch(url, {
    method: form ? 'POST' : 'GET',
    redirect: 'manual',
    headers: { ...browser, ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
    ...(form ? { body: new URLSearchParams(form) } : {}),
  });
  const location = res.headers.get('location');
  return {
    status: res.status,
    location: location ? new URL(location, url).toString() : undefined,
    body: await res.text(),
  };
}

/** Where the user ended: at the broker callback (its query), or on a page of ours. */
export type Arrival = { callback: Record<string, string>; endPage?: string } | { page: Visit };

/**
 * The user's way through the adapter's pages without scripts: the form, the personal code, the phone's
 * answer (when given) and the waiting page until it leads to the broker callback. An end page is
 * followed through its button, and reported.
 */
export async function walk(
  h: Harness,
  action: StartAction,
  person: { country: string; code: string } | 'cancel',
  phone?: PhoneAction,
): Promise<Arrival> {
  if (action.type !== 'redirect') throw new Error('Smart-ID starts with a redirect');
  const form = await visit(action.url);
  if (form.status !== 200) return { page: form };
  const handle = new URL(action.url).searchParams.get('h')!;
  const base = `${h.origin}${h.adapter.pagesPath}`;
  const hop =
    person === 'cancel'
      ? await visit(`${base}/cancel`, { h: handle })
      : await visit(`${base}/login`, { h: handle, ...person });
  if (phone && person !== 'cancel') {
    await h.phone(`PNO${person.country}-${person.code}`, phone);
  }
  return follow(h, hop);
}

/** Follow redirects and an end page's button until the broker callback (or a page that stops the user). */
export async function follow(h: Harness, first: Visit): Promise<Arrival> {
  const base = `${h.origin}${h.adapter.pagesPath}`;
  let hop = first;
  let endPage: string | undefined;
  for (let i = 0; i < 10; i += 1) {
    if (hop.location?.startsWith(h.callbackUrl))
      return { callback: Object.fromEntries(new URL(hop.location).searchParams), ...(endPage ? { endPage } : {}) };
    if (hop.location) {
      hop = await visit(hop.location);
      continue;
    }
    const back = /<a class="button primary" href="([^"]+)"/.exec(hop.body)?.[1]?.replace(/&amp;/g, '&');
    if (hop.status !== 200 || !back) return { page: hop };
    endPage = hop.body;
    hop = { status: 303, location: new URL(back, hop.location ?? base).toString(), body: '' };
  }
  throw new Error('no end to the Smart-ID pages');
}

/**
 * Web2App: the form's "open the app" button, the app opening the device link (the test RP API checks its
 * authCode) and confirming or refusing, and the browser's return; `tamper` may change the return URL
 * the app sends the browser to, `returnIn` be the headers of another browser it opens it in. Ends where
 * walk() ends.
 */
export async function walkWeb2App(
  h: Harness,
  action: StartAction,
  answer: 'confirm' | 'refuse',
  tamper: (returnUrl: URL) => void = () => {},
  returnIn?: Record<string, string>,
): Promise<Arrival> {
  if (action.type !== 'redirect') throw new Error('Smart-ID starts with a redirect');
  const handle = new URL(action.url).searchParams.get('h')!;
  const toApp = await visit(`${h.origin}${h.adapter.pagesPath}/app`, { h: handle });
  if (!toApp.location?.startsWith(h.rp.url.replace(/v3\/$/, ''))) return { page: toApp };
  const opened = await h.app(toApp.location);
  if (opened.status !== 200) return { page: opened };
  const token = /name="sessionToken" value="([^"]+)"/.exec(opened.body)![1]!;
  const answered = await h.app(new URL('/device-link', toApp.location).toString(), { sessionToken: token, answer });
  const back = new URL(answered.location!);
  tamper(back);
  return follow(h, await visit(back.toString(), undefined, returnIn));
}
