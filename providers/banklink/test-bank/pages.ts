// The test bank's pages: a plain look that says it is a test bank, CSP nonces when mounted inside the
// gateway (the demo), and the auto-submitting form that carries the signed answer back to VK_RETURN.
import type { Response } from 'express';
import { MISBEHAVIOURS, type Misbehaviour, type TestUser } from './options.ts';
import { encodeText, isEncoding } from '../protocol.ts';
import { escapeHtml } from '../../../src/web/html.ts';

// When mounted inside the gateway (demo), its Content-Security-Policy nonce must be on inline style/script.
function cspNonce(res: Response): string {
  const n: unknown = res.locals.cspNonce;
  return typeof n === 'string' ? ` nonce="${escapeHtml(n)}"` : '';
}

export function page(res: Response, title: string, body: string, charset = 'utf-8'): string {
  return `<!doctype html><html lang="en"><head><meta charset="${charset}"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)}</title>
<style${cspNonce(res)}>body{font-family:system-ui,sans-serif;max-width:36rem;margin:2rem auto;padding:0 1rem}fieldset{border:1px solid #ccc;margin:1rem 0}.error{color:#a00}.muted{color:#666;font-size:.9rem}</style></head>
<body><p class="muted">TEST BANK: development only, not a real bank</p>${body}</body></html>`;
}

export function hidden(fields: Record<string, string>): string {
  return Object.entries(fields)
    .map(([k, v]) => `<input type="hidden" name="${escapeHtml(k)}" value="${escapeHtml(v)}">`)
    .join('\n');
}

export function refuse(res: Response, reason: string): void {
  res
    .status(400)
    .type('html')
    .send(
      page(res, 'Request refused', `<h1>Request refused</h1><p class="error" id="reason">${escapeHtml(reason)}</p>`),
    );
}

/** The signed answer's page in the answer's VK_ENCODING, as such banks serve it: a browser then posts the
 * form in that encoding (a name with Latvian letters as WINDOWS-1257 bytes), which the gateway must read. */
export function autoPost(res: Response, target: { url: string; fields: Record<string, string> }): void {
  const declared = target.fields.VK_ENCODING?.toUpperCase();
  const encoding = isEncoding(declared) ? declared : 'UTF-8';
  const html = page(
    res,
    'Returning to the service',
    `<form id="autopost" method="post" action="${escapeHtml(target.url)}">
${hidden(target.fields)}
<button type="submit">Return to the service</button></form>
<script${cspNonce(res)}>document.getElementById('autopost').submit()</script>`,
    encoding.toLowerCase(),
  );
  let bytes: Buffer;
  try {
    bytes = encodeText(html, encoding);
  } catch {
    // a name the declared encoding cannot hold (a misbehaviour's): the page stays UTF-8
    return void res.type('html').send(html.replace(`charset="${encoding.toLowerCase()}"`, 'charset="utf-8"'));
  }
  res.type(`text/html; charset=${encoding.toLowerCase()}`).send(bytes);
}

const cancelForm = (base: string, session: string) =>
  `<form id="cancel" method="post" action="${escapeHtml(base)}/cancel">${hidden({ session })}<button type="submit">Cancel and return to the service</button></form>`;

/** The first step: pick a test user (and, for tests, a behaviour). */
export function loginBody(o: {
  base: string;
  session: string;
  bankName: string;
  merchant: string;
  users: readonly TestUser[];
  current: Misbehaviour;
}): string {
  const userList = o.users
    .map(
      (u, i) =>
        `<label><input type="radio" name="user" value="${escapeHtml(u.id)}"${i === 0 ? ' checked' : ''}> ${escapeHtml(u.givenName)} ${escapeHtml(u.familyName)} <span class="muted">${escapeHtml(u.country)} ${escapeHtml(u.personalCode)}</span></label><br>`,
    )
    .join('\n');
  const select = `<label>Test behaviour <select name="misbehave">${MISBEHAVIOURS.map((m) => `<option value="${m}"${m === o.current ? ' selected' : ''}>${m}</option>`).join('')}</select></label>`;
  return `<h1>${escapeHtml(o.bankName)}</h1>
<p>${escapeHtml(o.merchant)} asks you to identify yourself.</p>
<form id="login" method="post" action="${escapeHtml(o.base)}/login">${hidden({ session: o.session })}
<fieldset><legend>Test user</legend>${userList}</fieldset>
${select}
<p><button type="submit">Continue</button></p></form>
${cancelForm(o.base, o.session)}`;
}

/** The second step: the one-time code. */
export function codeBody(o: { base: string; session: string; how: Misbehaviour; code: string; error: string }): string {
  return `<h1>Confirm with a one-time code</h1>
${o.error ? `<p class="error" id="error">${escapeHtml(o.error)}</p>` : ''}
<p class="muted">Test bank code: <code id="hint">${escapeHtml(o.code)}</code></p>
<form id="confirm" method="post" action="${escapeHtml(o.base)}/confirm">${hidden({ session: o.session, misbehave: o.how })}
<label>Code <input name="code" autocomplete="one-time-code" inputmode="numeric"></label>
<button type="submit">Confirm</button></form>
${cancelForm(o.base, o.session)}`;
}
