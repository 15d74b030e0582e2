// The test IdP's HTML: its login page, the auto-submitting HTTP-POST binding form, and the reading of a
// form back out of a page (what a browser would submit), which tests use to follow the binding.
import type { TestUser } from './options.ts';

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title></head><body>${body}</body></html>`;
}

/** An auto-submitting form, as SAML HTTP-POST binding pages are. Mounted inside the gateway (the demo),
 * the script must carry the gateway's Content-Security-Policy nonce or a browser will not run it. */
export function autoPostForm(action: string, fields: Record<string, string>, cspNonce?: string): string {
  const inputs = Object.entries(fields)
    .map(([k, v]) => `<input type="hidden" name="${esc(k)}" value="${esc(v)}">`)
    .join('');
  const nonce = cspNonce ? ` nonce="${esc(cspNonce)}"` : '';
  return page(
    'Continue',
    `<form id="autopost" method="post" action="${esc(action)}">${inputs}<noscript><button type="submit">Continue</button></noscript></form><script${nonce}>document.forms[0].submit()</script>`,
  );
}

/** Read a form's action and fields from an HTML page (what a browser would submit). */
export function parseForm(html: string): { action: string; fields: Record<string, string> } {
  const unesc = (s: string) =>
    s.replace(/&#(\d+);/g, (_m, d: string) => String.fromCharCode(Number(d))).replace(/&amp;/g, '&');
  const action = /<form[^>]*action="([^"]*)"/.exec(html)?.[1];
  if (action === undefined) throw new Error('page has no form');
  const fields: Record<string, string> = {};
  for (const m of html.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g))
    fields[unesc(m[1]!)] = unesc(m[2]!);
  return { action: unesc(action), fields };
}

/** The person picker for a pending AuthnRequest (`ticket`), posting to `<baseUrl>/login`. */
export function loginPage(baseUrl: string, users: readonly TestUser[], ticket: string): string {
  const options = users
    .map((u, i) => `<option value="${i}">${esc(`${u.givenName} ${u.familyName} (${u.country ?? 'LV'})`)}</option>`)
    .join('');
  return page(
    'Test IdP login',
    `<h1>Test SAML IdP</h1><form method="post" action="${esc(`${baseUrl}/login`)}"><input type="hidden" name="ticket" value="${esc(ticket)}">` +
      `<select name="user">${options}</select><button type="submit" name="action" value="login">Log in</button>` +
      `<button type="submit" name="action" value="cancel">Cancel</button></form>`,
  );
}
