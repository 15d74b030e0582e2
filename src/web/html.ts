// Minimal HTML rendering: a tagged template that escapes every interpolated value unless it is already
// Html, and the frame every page of the gateway shares (landmarks, language, stylesheet, footer).
import type { UiConfig } from '../config/schema.ts';
import { isUiLocale, localized, type UiLocale } from '../login/locale.ts';
import { assetUrl } from './assets.ts';
import { t } from './i18n.ts';

export class Html {
  readonly value: string;
  constructor(value: string) {
    this.value = value;
  }
  toString(): string {
    return this.value;
  }
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

function render(value: unknown): string {
  if (value instanceof Html) return value.value;
  if (Array.isArray(value)) return value.map(render).join('');
  if (value === undefined || value === null || value === false) return '';
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0]!;
  values.forEach((v, i) => {
    out += render(v) + strings[i + 1]!;
  });
  return new Html(out);
}

export interface PageOptions {
  lang?: string;
  /** allows the one inline script some pages need (auto-submitting forms) */
  nonce?: string;
  /** the gateway's own pages: its header (name, language switcher) and footer (help, privacy notice) */
  site?: UiConfig | undefined;
  /** the language switcher shown in the header */
  languages?: Html | undefined;
  /** more of the head (a refresh for browsers without scripts) */
  head?: Html | undefined;
}

function footer(site: UiConfig, locale: UiLocale): Html {
  const { help, privacy_url } = site;
  const contacts = [
    help?.email ? html`<a href="mailto:${help.email}">${help.email}</a>` : '',
    help?.phone ? html`<a href="tel:${help.phone.replace(/ /g, '')}">${help.phone}</a>` : '',
    help?.url ? html`<a href="${help.url}">${help.url.replace(/^https?:\/\//, '')}</a>` : '',
  ].filter(Boolean);
  return html`<footer class="site"><div class="bar"><p><strong>${localized(site.name, locale)}</strong></p>
${contacts.length ? html`<p>${t(locale, 'help')}: ${contacts.map((c, i) => html`${i ? ' · ' : ''}${c}`)}</p>` : ''}
${privacy_url ? html`<p><a href="${privacy_url}">${t(locale, 'privacy')}</a></p>` : ''}</div></footer>`;
}

/** A full page. Everything sits in landmarks (WCAG 2.1 1.3.1): header, main, footer. */
export function page(title: string, body: Html, opts: PageOptions = {}): string {
  const lang = opts.lang ?? 'lv';
  const locale: UiLocale = isUiLocale(lang) ? lang : 'en';
  const site = opts.site;
  const fullTitle = site ? `${title} – ${localized(site.name, locale)}` : title;
  return html`<!doctype html>
<html lang="${lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${fullTitle}</title><link rel="stylesheet" href="${assetUrl('gateway.css')}"><link rel="icon" href="${assetUrl('favicon.svg')}" type="image/svg+xml">${opts.head ?? ''}</head>
<body>${
    site
      ? html`<a class="skip" href="#main">${t(locale, 'skip_to_content')}</a>
<header class="site"><div class="bar"><span class="brand"><img src="${assetUrl('emblem.svg')}" alt="" width="32" height="32">${localized(site.name, locale)}</span>${opts.languages ?? ''}</div></header>`
      : ''
  }
<main id="main">${body}</main>${site ? footer(site, locale) : ''}</body></html>`.value;
}

/** An auto-submitting POST form (banklink, SAML POST binding); without scripts its button stays visible. */
export function autoPostForm(url: string, fields: Record<string, string>, nonce: string, label = 'Continue'): Html {
  return html`<form id="autopost" method="post" action="${url}">
${Object.entries(fields).map(([k, v]) => html`<input type="hidden" name="${k}" value="${v}">`)}
<noscript><button class="primary" type="submit">${label}</button></noscript></form>
<script nonce="${nonce}">document.getElementById('autopost').submit()</script>`;
}
