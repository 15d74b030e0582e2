// Short fixed messages for users, in Latvian (default) and English. Operators get detail in logs instead.
import type { Locale } from '../broker/adapter.ts';

const MESSAGES = {
  choose_title: { lv: 'Izvēlieties autentifikācijas veidu', en: 'Choose how to authenticate' },
  choose_intro: {
    lv: 'Pakalpojums {client} lūdz apliecināt jūsu identitāti.',
    en: 'The service {client} asks you to prove your identity.',
  },
  banks: { lv: 'Internetbankas', en: 'Internet banks' },
  eids: { lv: 'eID līdzekļi', en: 'eID means' },
  cancel: { lv: 'Atcelt un atgriezties pakalpojumā', en: 'Cancel and return to the service' },
  continue: { lv: 'Turpināt', en: 'Continue' },
  redirecting: { lv: 'Notiek pāradresācija…', en: 'Redirecting…' },
  no_providers: {
    lv: 'Šim pakalpojumam nav pieejama neviena autentifikācijas iespēja ar pieprasīto drošības līmeni.',
    en: 'No authentication means at the requested level of assurance is available for this service.',
  },
  error_title: { lv: 'Pieslēgšanās neizdevās', en: 'Login failed' },
  error_generic: { lv: 'Pieprasījumu nevar apstrādāt.', en: 'The request cannot be processed.' },
  error_state: {
    lv: 'Pieslēgšanās sesija ir beigusies vai jau izmantota. Atgriezieties e-pakalpojumā un sāciet vēlreiz.',
    en: 'The login session has expired or was already used. Return to the e-service and start again.',
  },
  error_session: {
    lv: 'Pieslēgšanās sesija nav atrasta vai ir beigusies. Atgriezieties e-pakalpojumā un sāciet vēlreiz.',
    en: 'The login session was not found or has expired. Return to the e-service and start again.',
  },
  error_provider: { lv: 'Nezināms autentifikācijas veids.', en: 'Unknown authentication means.' },
  error_unavailable: {
    lv: 'Pieslēgšanās pakalpojums īslaicīgi nav pieejams. Lūdzu, mēģiniet vēlāk.',
    en: 'The login service is temporarily unavailable. Please try again later.',
  },
  error_redirect_uri: {
    lv: 'E-pakalpojuma atgriešanās adrese nav reģistrēta.',
    en: 'The e-service return address is not registered.',
  },
  error_client: { lv: 'Nezināms e-pakalpojums.', en: 'Unknown e-service.' },
  error_too_large: { lv: 'Pieprasījums ir pārāk liels.', en: 'The request is too large.' },
  error_not_found: { lv: 'Lapa nav atrasta.', en: 'Page not found.' },
  error_invalid_response: {
    lv: 'Autentifikācijas sniedzēja atbildi neizdevās pārbaudīt.',
    en: "The provider's answer could not be verified.",
  },
  error_loa_too_low: {
    lv: 'Izmantotais autentifikācijas līdzeklis neatbilst pakalpojuma prasītajam drošības līmenim.',
    en: 'The authentication means used does not meet the level of assurance the service requires.',
  },
  error_access_denied: {
    lv: 'Autentifikācijas sniedzējs atteica pieslēgšanos.',
    en: 'The provider refused the login.',
  },
  error_provider_unavailable: {
    lv: 'Autentifikācijas sniedzējs īslaicīgi nav pieejams. Lūdzu, mēģiniet vēlāk vai izvēlieties citu.',
    en: 'The provider is temporarily unavailable. Please try later or choose another.',
  },
  error_rate_limited: {
    lv: 'No jūsu adreses saņemts pārāk daudz pieprasījumu. Lūdzu, mēģiniet vēlreiz pēc brīža.',
    en: 'Too many requests came from your address. Please try again in a moment.',
  },
  error_too_many_starts: {
    lv: 'Šajā pieslēgšanās reizē autentifikācija sākta pārāk daudz reižu. Atgriezieties e-pakalpojumā un sāciet vēlreiz.',
    en: 'Authentication was started too many times in this login. Return to the e-service and start again.',
  },
  error_interrupted: {
    lv: 'Šis pieslēgšanās solis jau ir izpildīts vai vairs nav derīgs (lapa pārlādēta vai nosūtīta atkārtoti). Atgriezieties e-pakalpojumā un sāciet vēlreiz.',
    en: 'This login step was already completed or is no longer valid (the page was reloaded or sent again). Return to the e-service and start again.',
  },
  back_to_service: { lv: 'Atgriezties e-pakalpojumā', en: 'Return to the e-service' },
  logout_title: { lv: 'Iziet', en: 'Log out' },
  logout_question: {
    lv: 'Vai vēlaties iziet no vienotās pieteikšanās?',
    en: 'Do you want to log out of the single sign-on?',
  },
  logout_yes: { lv: 'Jā, iziet', en: 'Yes, log out' },
  logout_done: { lv: 'Jūs esat izgājis.', en: 'You have logged out.' },
} as const;

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
