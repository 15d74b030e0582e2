// Pages the gateway shows to users.
import type { Locale } from '../broker/adapter.ts';
import type { ProviderChoice } from '../login/policy.ts';
import type { EndReason } from '../login/step.ts';
import { html, page, autoPostForm, type Html } from './html.ts';
import { t, type MessageKey } from './i18n.ts';

export function selectionPage(opts: {
  locale: Locale;
  uid: string;
  clientName: string;
  providers: ProviderChoice[];
  nonce: string;
}): string {
  const { locale, uid } = opts;
  const group = (kind: 'bank' | 'eid', title: MessageKey) => {
    const list = opts.providers.filter((p) => p.kind === kind);
    if (!list.length) return html``;
    return html`<h2>${t(locale, title)}</h2><ul class="providers">${list.map(
      (p) =>
        html`<li><form method="post" action="/interaction/${uid}/provider"><input type="hidden" name="provider" value="${p.id}"><button class="primary" type="submit" data-provider="${p.id}">${p.logo ? html`<img src="${p.logo}" alt="" height="20"> ` : ''}${p.name}</button></form></li>`,
    )}</ul>`;
  };
  const body = html`<h1>${t(locale, 'choose_title')}</h1><p>${t(locale, 'choose_intro', { client: opts.clientName })}</p>
${opts.providers.length ? html`${group('bank', 'banks')}${group('eid', 'eids')}` : html`<p class="error">${t(locale, 'no_providers')}</p>`}
<form method="post" action="/interaction/${uid}/abort"><button type="submit">${t(locale, 'cancel')}</button></form>
<p class="muted"><a href="?ui_locales=${locale === 'lv' ? 'en' : 'lv'}" lang="${locale === 'lv' ? 'en' : 'lv'}">${locale === 'lv' ? 'English' : 'Latviski'}</a></p>`;
  return page(t(locale, 'choose_title'), body, { lang: locale, nonce: opts.nonce });
}

export function redirectFormPage(opts: {
  locale: Locale;
  url: string;
  fields: Record<string, string>;
  nonce: string;
}): string {
  return page(
    t(opts.locale, 'redirecting'),
    html`<p>${t(opts.locale, 'redirecting')}</p>${autoPostForm(opts.url, opts.fields, opts.nonce, t(opts.locale, 'continue'))}`,
    { lang: opts.locale, nonce: opts.nonce },
  );
}

/** An error page. `back` links on (to the hand-back); `end` is a button that ends the login of interaction
 * `uid` with an OAuth error to the service, the way back when the login cannot go on. */
export function errorPage(opts: {
  locale: Locale;
  message: MessageKey;
  nonce: string;
  back?: string | undefined;
  end?: { uid: string; reason: EndReason } | undefined;
}): string {
  const body: Html = html`<h1>${t(opts.locale, 'error_title')}</h1><p class="error">${t(opts.locale, opts.message)}</p>
${opts.back ? html`<p><a class="button" href="${opts.back}">${t(opts.locale, 'back_to_service')}</a></p>` : ''}
${opts.end ? html`<form method="post" action="/interaction/${opts.end.uid}/abort"><input type="hidden" name="reason" value="${opts.end.reason}"><button class="primary" type="submit">${t(opts.locale, 'back_to_service')}</button></form>` : ''}`;
  return page(t(opts.locale, 'error_title'), body, { lang: opts.locale, nonce: opts.nonce });
}
