// The VPM joining conditions a record must meet before the agreement is drafted and for as long as the
// provider is offered: a bank holds an active credit institution licence, another eID provider is a
// qualified enhanced-security provider in the Ministry of Defence register, the service is free of
// charge and offers online two-factor authentication. Each reason names the record field. A date is a
// day in Latvia, as the registers keep it.
import { latvianDay } from '../registry/onboarding.ts';
import type { RegistryRecord } from './record.ts';

export function unmetTerms(record: RegistryRecord, today = new Date()): string[] {
  const reasons: string[] = [];
  const day = latvianDay(today);
  const licence = record.licence;
  if (record.legal_kind === 'credit_institution') {
    if (!licence) reasons.push('licence: a bank needs an active credit institution licence');
  } else if (!licence) reasons.push('licence: an eID provider must be in the Ministry of Defence register');
  else if (!licence.qualified) reasons.push('licence.qualified: not a qualified enhanced-security eID provider');
  if (licence?.valid_until && licence.valid_until < day)
    reasons.push(`licence.valid_until: expired on ${licence.valid_until}`);
  if (!record.free_of_charge.declared) reasons.push('free_of_charge.declared: the service must be free of charge');
  if (!record.two_factor) reasons.push('two_factor: online two-factor authentication is required');
  return reasons;
}
