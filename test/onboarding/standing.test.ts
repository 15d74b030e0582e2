// Who is offered what, by stage: the registry's rule in every mode, and the inline `onboarding` blocks'
// (testing for test services only in production mode, for every service outside it).
import { inlineStanding, recordsByAdapter, recordStanding } from '../../src/onboarding/standing.ts';
import { bankOnboarding, MOCK_BANK } from '../support/provider-entries.ts';
import { record } from './fixtures.ts';
import type { ProviderBaseConfig } from '../../src/config/provider-base.ts';

const entry = (stage: 'testing' | 'production') =>
  ({ ...MOCK_BANK, onboarding: bankOnboarding(stage) }) as ProviderBaseConfig;

test.each([
  ['production', 'all'],
  ['testing', 'test'],
  ['development', 'none'],
  ['suspended', 'none'],
  ['refused', 'none'],
] as const)('a record at %s is offered to %s', (stage, audience) => {
  expect(recordStanding(record('bank-a', stage), 'bank-a').audience).toBe(audience);
});

test('a provider suspended from production keeps its adapter ready; one suspended before testing does not', () => {
  expect(recordStanding(record('bank-a', 'suspended'), 'bank-a').dormant).toBe(false);
  const live = record('bank-a', 'production');
  live.history.push({ ...live.history.at(-1)!, stage: 'suspended' });
  expect(recordStanding(live, 'bank-a')).toMatchObject({ audience: 'none', dormant: true });
});

test('inline blocks: testing is for test services in production mode, for every service outside it', () => {
  expect(inlineStanding(entry('testing'), true).audience).toBe('test');
  expect(inlineStanding(entry('testing'), false).audience).toBe('all');
  expect(inlineStanding(entry('production'), true).audience).toBe('all');
  const unlicensed = {
    ...entry('production'),
    onboarding: { ...bankOnboarding(), licence: undefined },
  } as ProviderBaseConfig;
  expect(inlineStanding(unlicensed, true)).toMatchObject({
    audience: 'none',
    unmet: ['onboarding.licence: a bank needs an active credit institution licence'],
  });
});

test('a provider two records name as their adapter is governed by neither (offered to nobody)', () => {
  const squatter = record('squatter', 'production', { adapter: 'bank-a' });
  const records = new Map([
    ['bank-a', record('bank-a', 'refused')],
    ['squatter', squatter],
    ['eid-a', record('eid-a', 'production')],
  ]);
  expect([...recordsByAdapter(records).keys()]).toEqual(['eid-a']);
});

test('a licence valid until a day lapses at midnight in Riga, not at midnight UTC (record and inline block)', () => {
  const lastDay = record('bank-a', 'production');
  lastDay.licence = { ...lastDay.licence!, valid_until: '2026-03-31' };
  const inline = {
    ...entry('production'),
    onboarding: { ...bankOnboarding(), licence: { number: 'LB-1', valid_until: '2026-03-31' } },
  } as ProviderBaseConfig;
  // 23:30 in Riga (summer time, UTC+3) on its last day, then 00:30 the next day, still 31 March in UTC
  const evening = new Date('2026-03-31T20:30:00Z');
  const pastMidnight = new Date('2026-03-31T21:30:00Z');
  expect(recordStanding(lastDay, 'bank-a', evening).audience).toBe('all');
  expect(recordStanding(lastDay, 'bank-a', pastMidnight)).toMatchObject({
    audience: 'none',
    unmet: ['licence.valid_until: expired on 2026-03-31'],
  });
  expect(inlineStanding(inline, true, evening).audience).toBe('all');
  expect(inlineStanding(inline, true, pastMidnight).unmet).toEqual([
    'onboarding.licence.valid_until: licence expired on 2026-03-31',
  ]);
});
