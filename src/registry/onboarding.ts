// The VPM joining conditions decide which providers may be offered to agency services:
// a bank needs an active credit institution licence; another eID provider must be in the Ministry of
// Defence register of eID providers (and, per the most common refusal reason, be qualified); the service
// must be free of charge and offer two-factor authentication; and the provider must have reached the
// seven-stage process's `testing` stage, or `production` when `production` is asked. Who is offered
// which (src/onboarding/standing.ts): `production` every service, `testing` the `test: true` services,
// in production mode too (outside it, with inline blocks, every service).
import type { ProviderBaseConfig } from '../config/provider-base.ts';

const RIGA = new Intl.DateTimeFormat('en-CA', {
  timeZone: 'Europe/Riga',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
});

/** The calendar day in Latvia (YYYY-MM-DD) at `date`: a licence or register entry valid until a day is
 * valid to the end of that day in Riga (UTC+2, +3 in summer), not in UTC, where it would lapse hours early. */
export function latvianDay(date: Date): string {
  const part = (type: string) => RIGA.formatToParts(date).find((p) => p.type === type)!.value;
  return `${part('year')}-${part('month')}-${part('day')}`;
}

export interface Eligibility {
  eligible: boolean;
  /** operator-readable reasons, each naming the config field */
  reasons: string[];
}

export function eligibility(provider: ProviderBaseConfig, production: boolean, today = new Date()): Eligibility {
  const reasons: string[] = [];
  const onboarding = provider.onboarding;
  // with a registry the provider's record decides (src/onboarding); without either, nothing is offered
  if (!onboarding) return { eligible: false, reasons: ['onboarding: missing (and no registry record governs it)'] };
  const day = latvianDay(today);
  if (provider.kind === 'bank') {
    if (!onboarding.licence) reasons.push('onboarding.licence: a bank needs an active credit institution licence');
    else if (onboarding.licence.valid_until < day)
      reasons.push(`onboarding.licence.valid_until: licence expired on ${onboarding.licence.valid_until}`);
  } else {
    if (!onboarding.eid_register)
      reasons.push('onboarding.eid_register: an eID provider must be in the Ministry of Defence register');
    else {
      if (!onboarding.eid_register.qualified)
        reasons.push('onboarding.eid_register.qualified: not a qualified enhanced-security eID provider');
      if (onboarding.eid_register.valid_until && onboarding.eid_register.valid_until < day)
        reasons.push(
          `onboarding.eid_register.valid_until: registration expired on ${onboarding.eid_register.valid_until}`,
        );
    }
  }
  if (!onboarding.free_of_charge) reasons.push('onboarding.free_of_charge: the service must be free of charge');
  if (!onboarding.two_factor) reasons.push('onboarding.two_factor: online two-factor authentication is required');
  const ready = production
    ? onboarding.stage === 'production'
    : onboarding.stage === 'production' || onboarding.stage === 'testing';
  if (!ready)
    reasons.push(
      `onboarding.stage: ${onboarding.stage} is not yet ${production ? 'production' : 'testing or production'}`,
    );
  return { eligible: reasons.length === 0, reasons };
}
