// The languages of the pages citizens see. Latvian is the state language and the default; English and
// Russian are offered as most Latvian state e-services offer them. Providers are spoken to in the
// languages their protocols know (src/broker/adapter.ts Locale): Russian users reach them in English.
import type { Locale } from '../broker/adapter.ts';

export const UI_LOCALES = ['lv', 'en', 'ru'] as const;
export type UiLocale = (typeof UI_LOCALES)[number];

export function isUiLocale(value: unknown): value is UiLocale {
  return typeof value === 'string' && (UI_LOCALES as readonly string[]).includes(value);
}

/** A name in each page language; Russian may be left out and then reads as English. */
export interface LocalizedText {
  lv: string;
  en: string;
  ru?: string | undefined;
}

export function localized(text: LocalizedText, locale: UiLocale): string {
  return (locale === 'ru' ? text.ru : text[locale]) ?? text.en;
}

/** The language a provider is asked to show its own pages in. */
export function providerLocale(locale: UiLocale): Locale {
  return locale === 'ru' ? 'en' : locale;
}
