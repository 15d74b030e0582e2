// Pages the gateway shows to users.
import type { Locale } from '../broker/adapter.ts';
import { html, page, autoPostForm, type Html } from './html.ts';
import { t, type MessageKey } from './i18n.ts';

export interface ProviderChoice {
  id: string;
  name: string;
  kind: 'bank' | 'eid';
  logo?: string | undefined;
}

export function selectionPage(opts: {
  locale: Locale;
  uid: string;
  clientName: string;
  providers: ProviderChoice[];
  nonce: string;
}): string {
  const { locale: l, uid } = opts;
  const group = (kind: 'bank' | 'eid', title: MessageKey) => {
    const list = opts.providers.filter((p) => p.kind === kind);
    if (!list.length) return html``;
    return html`<h2>${t(l, title)}</h2><ul class="providers">${list.map(
      (p) =>
        html`<li><form method="post" action="/interaction/${uid}/provider"><input type="hidden" name="provider" value="${p.id}"><button class="primary" type="submit" data-provider="${p.id}">${p.logo ? html`<img src="${p.logo}" alt="" height="20"> ` : ''}${p.name}</button></form></li>`,
    )}</ul>`;
  };
  const body = html`<h1>${t(l, 'choose_title')}</h1><p>${t(l, 'choose_intro', { client: opts.clientName })}</p>
${opts.providers.length ? html`${group('bank', 'banks')}${group('eid', 'eids')}` : html`<p class="error">${t(l, 'no_providers')}</p>`}
<form method="post" action="/interaction/${uid}/abort"><button type="submit">${t(l, 'cancel')}</button></form>
<p class="muted"><a href="?ui_locales=${l === 'lv' ? 'en' : 'lv'}" lang="${l === 'lv' ? 'en' : 'lv'}">${l === 'lv' ? 'English' : 'Latviski'}</a></p>`;
  return page(t(l, 'choose_title'), body, { lang: l, nonce: opts.nonce });
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

/** Why the user ends a login from a page of ours (src/web/way-back.ts maps each to an OAuth error). */
export type EndReason = 'cancel' | 'interrupted' | 'too_many_starts' | 'unavailable';

/** An error page. `back` links on (to the hand-back); `end` is a button that ends the login of interaction
 * `uid` with an OAuth error to the service, the way back when the login cannot go on. */
export function errorPage(opts: {
  locale: Locale;
  message: MessageKey;
  nonce: string;
  back?: string | undefined;
  end?: { uid: string; reason: EndReason } | undefined;
  reference?: string | undefined;
}): string {
  const body: Html = html`<h1>${t(opts.locale, 'error_title')}</h1><p class="error">${t(opts.locale, opts.message)}</p>
${opts.back ? html`<p><a class="button" href="${opts.back}">${t(opts.locale, 'back_to_service')}</a></p>` : ''}
${opts.end ? html`<form method="post" action="/interaction/${opts.end.uid}/abort"><input type="hidden" name="reason" value="${opts.end.reason}"><button class="primary" type="submit">${t(opts.locale, 'back_to_service')}</button></form>` : ''}
${opts.reference ? html`<p class="muted">Ref: ${opts.reference}</p>` : ''}`;
  return page(t(opts.locale, 'error_title'), body, { lang: opts.locale, nonce: opts.nonce });
}
