// Short fixed messages for users, in Latvian (default) and English. Operators get detail in logs instead.
import type { Locale } from '../broker/adapter.ts';
import messages from './messages.json' with { type: 'json' };

/** Every message in both languages (data: edited without touching code). */
const MESSAGES: Record<keyof typeof messages, Record<Locale, string>> = messages;

export type MessageKey = keyof typeof MESSAGES;

export function t(locale: Locale, key: MessageKey, vars: Record<string, string> = {}): string {
  return MESSAGES[key][locale].replace(/\{(\w+)\}/g, (_, name: string) => vars[name] ?? '');
}

/** First supported language of `ui_locales` (space separated) or Accept-Language; Latvian by default. */
export function pickLocale(uiLocales?: unknown, acceptLanguage?: string): Locale {
  const candidates = [
    ...(typeof uiLocales === 'string' ? uiLocales.split(' ') : []),
    ...(acceptLanguage ?? '').split(',').map((part) => part.split(';')[0]!.trim()),
  ];
  for (const c of candidates) {
    const lang = c.toLowerCase().slice(0, 2);
    if (lang === 'lv' || lang === 'en') return lang;
  }
  return 'lv';
}
