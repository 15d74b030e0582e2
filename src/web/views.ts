// Pages the gateway shows to citizens: the provider selection, the hop to a provider, and the pages that
// say why a login cannot go on, each with the way back to the service.
import type { UiConfig } from '../config/schema.ts';
import { localized, UI_LOCALES, type UiLocale } from '../login/locale.ts';
import type { ProviderChoice } from '../login/policy.ts';
import type { WayBack } from '../login/step.ts';
import { assetUrl } from './assets.ts';
import { html, page, autoPostForm, type Html } from './html.ts';
import { LANGUAGE_NAMES, t, type MessageKey } from './i18n.ts';

const GROUP_TITLES: Record<UiConfig['groups'][number], MessageKey> = { bank: 'banks', eid: 'eids', eidas: 'eidas' };

/** Links to this page in the other languages; the login (the interaction) goes on in the one chosen. */
export function languageSwitcher(locale: UiLocale, href: (locale: UiLocale) => string): Html {
  return html`<nav aria-label="${t(locale, 'language')}"><ul>${UI_LOCALES.map((l) =>
    l === locale
      ? html`<li><span aria-current="true" lang="${l}">${LANGUAGE_NAMES[l]}</span></li>`
      : html`<li><a href="${href(l)}" lang="${l}" hreflang="${l}">${LANGUAGE_NAMES[l]}</a></li>`,
  )}</ul></nav>`;
}

/** Provider groups in the configured order; a group the configuration leaves out follows the others. */
function groupOrder(site: UiConfig): UiConfig['groups'] {
  return [...new Set([...site.groups, 'bank', 'eid', 'eidas'] as const)];
}

export function selectionPage(opts: {
  locale: UiLocale;
  uid: string;
  clientId: string;
  clientName: string;
  providers: ProviderChoice[];
  nonce: string;
  site: UiConfig;
}): string {
  const { locale, uid, site } = opts;
  // each form carries the page's language, so a language switched here holds for the rest of the login,
  // and the service, whose home page is the way back once the login has expired
  const lang = html`<input type="hidden" name="ui_locales" value="${locale}"><input type="hidden" name="client_id" value="${opts.clientId}">`;
  const group = (g: UiConfig['groups'][number]) => {
    const list = opts.providers.filter((p) => p.group === g);
    if (!list.length) return html``;
    return html`<section aria-labelledby="group-${g}"><h2 id="group-${g}">${t(locale, GROUP_TITLES[g])}</h2><ul class="providers">${list.map(
      (p) =>
        html`<li><form method="post" action="/interaction/${uid}/provider"><input type="hidden" name="provider" value="${p.id}">${lang}<button class="provider" type="submit" data-provider="${p.id}">${p.logo ? html`<img src="${p.logo}" alt="" width="40" height="40">` : ''}<span>${localized(p.name, locale)}</span></button></form></li>`,
    )}</ul></section>`;
  };
  const body = html`<p class="service">${t(locale, 'service_label')} <strong>${opts.clientName}</strong></p>
<h1>${t(locale, 'choose_title')}</h1><p>${t(locale, 'choose_intro', { client: opts.clientName })}</p>
${opts.providers.length ? groupOrder(site).map(group) : html`<p class="error">${t(locale, 'no_providers')}</p>`}
<div class="actions"><form method="post" action="/interaction/${uid}/abort">${lang}<button type="submit">${t(locale, 'cancel')}</button></form></div>`;
  return page(t(locale, 'choose_title'), body, {
    lang: locale,
    nonce: opts.nonce,
    site,
    // `choose`: the page stays the selection page even when the service sent an idp_hint
    languages: languageSwitcher(
      locale,
      (l) => `/interaction/${uid}?choose=1&ui_locales=${l}&client_id=${encodeURIComponent(opts.clientId)}`,
    ),
  });
}

export function redirectFormPage(opts: {
  locale: UiLocale;
  url: string;
  fields: Record<string, string>;
  nonce: string;
  site: UiConfig;
}): string {
  const { locale } = opts;
  return page(
    t(locale, 'redirecting'),
    html`<h1>${t(locale, 'redirecting')}</h1><noscript><p>${t(locale, 'redirecting_hint')}</p></noscript>${autoPostForm(opts.url, opts.fields, opts.nonce, t(locale, 'continue'))}`,
    { lang: locale, nonce: opts.nonce, site: opts.site },
  );
}

export interface ErrorPageOptions extends WayBack {
  locale: UiLocale;
  message: MessageKey;
  /** the page's title and heading, where it is not a login that failed */
  title?: MessageKey | undefined;
  nonce: string;
  site?: UiConfig | undefined;
}

/** The reference a user reads out to the help desk: the first characters of the login's correlation id
 * (60 random bits), which `audit query --correlation` matches as a prefix. */
export const REFERENCE_LENGTH = 10;
export const shortReference = (correlationId: string) => correlationId.slice(0, REFERENCE_LENGTH);

/** A refusal goes `back` to the service by itself after the site's delay, so that the service hears of it,
 * unless the user chooses to stay (WCAG 2.1 2.2.1): the note and button for the page's body, and for its
 * head the refresh a browser without scripts follows instead of auto-return.js. */
export function autoReturn(locale: UiLocale, back: string, site: UiConfig | undefined): { body: Html; head: Html } {
  const seconds = String(site?.return_after_seconds ?? 20);
  return {
    body: html`<p id="auto-return" tabindex="-1" data-url="${back}" data-seconds="${seconds}" data-stayed="${t(locale, 'stayed')}">${t(locale, 'auto_return', { seconds })}</p><button id="stay" type="button" hidden>${t(locale, 'stay')}</button><script src="${assetUrl('auto-return.js')}" defer></script>`,
    head: html`<noscript><meta http-equiv="refresh" content="${seconds};url=${back}"></noscript>`,
  };
}

/** A page saying why the login cannot go on, the ways on, and the reference an operator looks up. */
export function errorPage(opts: ErrorPageOptions): string {
  const { locale, back, end, retry, reference, site } = opts;
  const home = back || end ? undefined : opts.home;
  const timed = opts.autoReturn && back ? autoReturn(locale, back, site) : undefined;
  const title = t(locale, opts.title ?? 'error_title');
  const body: Html = html`<h1>${title}</h1><p class="error">${t(locale, opts.message)}</p>
<div class="actions">${back ? html`<a class="button" href="${back}">${t(locale, 'back_to_service')}</a>` : ''}${
    end
      ? html`<form method="post" action="/interaction/${end.uid}/abort"><input type="hidden" name="reason" value="${end.reason}">${end.clientId ? html`<input type="hidden" name="client_id" value="${end.clientId}">` : ''}<button class="primary" type="submit">${t(locale, 'back_to_service')}</button></form>`
      : ''
  }${home ? html`<a class="button" href="${home}">${t(locale, 'back_to_service')}</a>` : ''}${retry ? html`<a class="button secondary" href="${retry}?choose=1&amp;ui_locales=${locale}">${t(locale, 'another_provider')}</a>` : ''}</div>
${timed?.body ?? ''}
${reference ? html`<p class="reference muted">${t(locale, 'reference')}: <code>${shortReference(reference)}</code></p>` : ''}`;
  return page(title, body, {
    lang: locale,
    nonce: opts.nonce,
    site,
    head: timed?.head,
  });
}
