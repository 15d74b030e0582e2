// Short fixed messages for users, in Latvian (default), English and Russian. Operators get detail in logs.
import { isUiLocale, UI_LOCALES, type UiLocale } from '../login/locale.ts';
import messages from './messages.json' with { type: 'json' };

/** Every message in every page language (data: edited without touching code; a missing language is a
 * type error). */
const MESSAGES: Record<keyof typeof messages, Record<UiLocale, string>> = messages;

export type MessageKey = keyof typeof MESSAGES;

export const MESSAGE_KEYS = Object.keys(MESSAGES) as MessageKey[];

export function t(locale: UiLocale, key: MessageKey, vars: Record<string, string> = {}): string {
  return MESSAGES[key][locale].replace(/\{(\w+)\}/g, (_, name: string) => vars[name] ?? '');
}

/** Each language's own name, as its speakers write it (the language switcher). */
export const LANGUAGE_NAMES: Record<UiLocale, string> = { lv: 'Latviešu', en: 'English', ru: 'Русский' };

/** First supported language of `ui_locales` (space separated, OpenID Connect Core 3.1.2.1), then of
 * Accept-Language (in the client's order of preference); Latvian by default. */
export function pickLocale(uiLocales?: unknown, acceptLanguage?: string): UiLocale {
  const preferred = (acceptLanguage ?? '')
    .split(',')
    .map((part, index) => {
      const [tag = '', ...params] = part.split(';').map((s) => s.trim());
      const q = Number(/^q=([0-9.]+)$/.exec(params.find((p) => p.startsWith('q=')) ?? '')?.[1] ?? 1);
      return { tag, q: Number.isFinite(q) ? q : 0, index };
    })
    .filter((entry) => entry.q > 0)
    .sort((a, b) => b.q - a.q || a.index - b.index)
    .map((entry) => entry.tag);
  const candidates = [...(typeof uiLocales === 'string' ? uiLocales.split(' ') : []), ...preferred];
  for (const c of candidates) {
    const lang = c.toLowerCase().split('-')[0];
    if (isUiLocale(lang)) return lang;
  }
  return UI_LOCALES[0];
}
