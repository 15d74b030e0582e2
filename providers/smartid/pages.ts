// The Smart-ID pages the gateway shows between the provider choice and the broker callback: the personal
// code form, the waiting page with the verification code (it polls with a script, or refreshes itself
// without one) and the page that says how a session ended. Laid out by the gateway's page(), in the site's
// frame (its name, help contacts and privacy notice) as the gateway's own login pages are.
import type { Response } from 'express';
import type { UiConfig } from '../../src/config/schema.ts';
import { html, page, type Html } from '../../src/web/html.ts';
import { siteOf } from '../../src/web/outcome.ts';
import type { Country } from '../../src/identity/personal-code.ts';
import { LANGS, msg, type Lang, type MessageKey } from './messages.ts';
import { autoReturn, shortReference } from '../../src/web/views.ts';

const LANG_NAMES: Record<Lang, string> = { lv: 'Latviski', en: 'English', ru: 'Русский' };

function languages(lang: Lang, link: (l: Lang) => string): Html {
  return html`<p class="muted">${LANGS.filter((l) => l !== lang).map(
    (l) => html`<a href="${link(l)}" lang="${l}">${LANG_NAMES[l]}</a> `,
  )}</p>`;
}

export function identifyPage(o: {
  lang: Lang;
  base: string;
  handle: string;
  countries: readonly Country[];
  error?: boolean;
  /** offer the app on this device (Web2App) */
  web2app?: boolean;
  /** offer a QR code for the app on a phone */
  qr?: boolean;
  nonce: string;
  site: UiConfig | undefined;
}): string {
  const { lang, base, handle } = o;
  const body = html`<h1>${msg(lang, 'title')}</h1><p>${msg(lang, 'identify_intro')}</p>
${o.error ? html`<p class="error" role="alert">${msg(lang, 'bad_code')}</p>` : ''}
<form method="post" action="${base}/login"><input type="hidden" name="h" value="${handle}"><input type="hidden" name="lang" value="${lang}">
<p><label for="country">${msg(lang, 'country')}</label><br><select id="country" name="country">${o.countries.map(
    (c) => html`<option value="${c}">${msg(lang, `country_${c}`)}</option>`,
  )}</select></p>
<p><label for="code">${msg(lang, 'personal_code')}</label><br><input id="code" name="code" autocomplete="off" inputmode="numeric" maxlength="20" required></p>
<p><button class="primary" type="submit">${msg(lang, 'continue')}</button></p></form>
${o.web2app ? html`<form method="post" action="${base}/app"><input type="hidden" name="h" value="${handle}"><input type="hidden" name="lang" value="${lang}"><p>${msg(lang, 'web2app_intro')}</p><button type="submit" data-flow="web2app">${msg(lang, 'open_app')}</button></form>` : ''}
${o.qr ? html`<form method="post" action="${base}/qr"><input type="hidden" name="h" value="${handle}"><input type="hidden" name="lang" value="${lang}"><p>${msg(lang, 'qr_intro')}</p><button type="submit" data-flow="qr">${msg(lang, 'show_qr')}</button></form>` : ''}
<form method="post" action="${base}/cancel"><input type="hidden" name="h" value="${handle}"><button type="submit">${msg(lang, 'cancel')}</button></form>
${languages(lang, (l) => `${base}/login?h=${handle}&lang=${l}`)}`;
  return page(msg(lang, 'title'), body, { lang, nonce: o.nonce, site: o.site });
}

/** Waits for the app: the script long-polls `status` and follows where it says; without scripts the
 * page reloads itself (the reload polls once). */
export function waitPage(o: {
  lang: Lang;
  base: string;
  handle: string;
  code: string;
  /** QR flow: the dynamic link as it is now (the page shows it as a QR code instead of a verification code) */
  qrLink?: string | undefined;
  nonce: string;
  site: UiConfig | undefined;
}): string {
  const { lang, base, handle } = o;
  const status = `${base}/status?h=${handle}`;
  const qr = `${base}/qr.svg?h=${handle}`;
  // without scripts a QR page reloads every second: each load draws the link with the current elapsedSeconds
  // in the head, where HTML allows a meta element (a browser without scripts refreshes; with them, the script polls)
  const refresh = html`<noscript><meta http-equiv="refresh" content="${o.qrLink ? '1' : '3'}"></noscript>`;
  const body = html`<h1>${msg(lang, 'wait_title')}</h1>${
    o.qrLink
      ? html`<p>${msg(lang, 'qr_wait_intro')}</p>
<p><img id="qr" src="${qr}&amp;s=0" data-qr="${qr}" data-link="${o.qrLink}" width="280" height="280" alt="${msg(lang, 'qr_alt')}"></p>
<p><a href="${qr}&amp;format=text">${msg(lang, 'qr_text')}</a></p>`
      : html`<p>${msg(lang, 'wait_intro')}</p>
<p>${msg(lang, 'verification_code')}:</p><p id="vc" class="verification-code" aria-live="polite">${o.code}</p>`
  }
<noscript><p><a class="button" href="${base}/wait?h=${handle}&lang=${lang}">${msg(lang, 'refresh')}</a></p></noscript>
<form method="post" action="${base}/cancel"><input type="hidden" name="h" value="${handle}"><button type="submit">${msg(lang, 'cancel')}</button></form>
${languages(lang, (l) => `${base}/wait?h=${handle}&lang=${l}`)}
<script nonce="${o.nonce}" data-status="${status}">(()=>{const q=document.getElementById('qr');if(!q)return;let n=0;setInterval(()=>{n+=1;q.src=q.dataset.qr+'&s='+n},1000)})();(async()=>{const u=document.currentScript.dataset.status;for(;;){try{const r=await fetch(u,{headers:{accept:'application/json'},cache:'no-store'});if(r.ok){const s=await r.json();if(s.next){location.assign(s.next);return}}else if(r.status===404){location.reload();return}else{await new Promise(f=>setTimeout(f,2000))}}catch{await new Promise(f=>setTimeout(f,2000))}}})()</script>`;
  return page(msg(lang, 'wait_title'), body, { lang, nonce: o.nonce, head: refresh, site: o.site });
}

/** How the session ended, and the way back to the service (through the broker callback), which the page
 * takes by itself after the site's delay as the gateway's refusal pages do: the service hears back. */
export function endPage(o: {
  lang: Lang;
  message: MessageKey;
  next: string;
  nonce: string;
  /** the login's correlation id (`vpm-gateway audit query --correlation` finds it by its start) */
  reference?: string | undefined;
  site: UiConfig | undefined;
}): string {
  const timed = autoReturn(o.lang, o.next, o.site);
  const body = html`<h1>${msg(o.lang, 'end_title')}</h1><p class="error" role="alert">${msg(o.lang, o.message)}</p>
<p><a class="button primary" href="${o.next}">${msg(o.lang, 'back_to_service')}</a></p>${timed.body}${
    o.reference
      ? html`<p class="reference muted">${msg(o.lang, 'reference')}: <code>${shortReference(o.reference)}</code></p>`
      : ''
  }`;
  return page(msg(o.lang, 'end_title'), body, { lang: o.lang, nonce: o.nonce, site: o.site, head: timed.head });
}

/** Answers a request for a login that is unknown, expired or already ended (400 unless told). */
/** A login this request cannot go on with: gone (`expired`), or begun in another browser (`other_browser`). */
export function sendExpired(
  res: Response,
  lang: Lang,
  status = 400,
  why: 'expired' | 'other_browser' = 'expired',
): void {
  res
    .status(status)
    .type('html')
    .send(expiredPage(lang, String(res.locals.cspNonce ?? ''), why, siteOf(res)));
}

export function expiredPage(
  lang: Lang,
  nonce: string,
  why: 'expired' | 'other_browser' = 'expired',
  site?: UiConfig,
): string {
  return page(msg(lang, 'title'), html`<h1>${msg(lang, 'title')}</h1><p class="error">${msg(lang, why)}</p>`, {
    lang,
    nonce,
    site,
  });
}
