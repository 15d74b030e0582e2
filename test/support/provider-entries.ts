// Provider entries as they stand in a gateway's YAML file, before schema defaults: the fields every
// test of a kind shares. A test spreads one and adds its peer's URL, keys and the options it tries.
import { type GatewayKeyFiles, providerEntry } from '../../providers/oidc/test-op/fixtures.ts';

export type OnboardingStage = 'testing' | 'production';

/** A qualified eID provider in the Ministry of Defence register, free of charge, two-factor. */
export const eidOnboarding = (stage: OnboardingStage = 'production') => ({
  stage,
  eid_register: { entry: 'T-1', qualified: true },
  free_of_charge: true,
  two_factor: true,
});

/** A bank with an active credit institution licence, free of charge, two-factor. */
export const bankOnboarding = (stage: OnboardingStage = 'production') => ({
  stage,
  licence: { number: 'LB-1', valid_until: '2099-12-31' },
  free_of_charge: true,
  two_factor: true,
});

/** An eID's kind, level and onboarding record (a qualified eID in the register) at `stage`. */
const eidAt = (stage: OnboardingStage) => ({ kind: 'eid', loa: 'high', onboarding: eidOnboarding(stage) });

/** A bank's kind, level and onboarding record (a licensed credit institution) at `stage`. */
const bankAt = (stage: OnboardingStage, loa: 'substantial' | 'high') => ({
  kind: 'bank',
  loa,
  onboarding: bankOnboarding(stage),
});

/** The same entry, offered in production mode. */
export function inProduction<T extends { onboarding?: object | undefined }>(entry: T): T {
  return { ...entry, onboarding: { ...entry.onboarding, stage: 'production' } };
}

/** The gateway's default test providers: the mock eID and the mock bank, both in production. */
export const MOCK_PROVIDER = {
  id: 'mock-eid',
  type: 'mock',
  name: { lv: 'Testa eID', en: 'Test eID' },
  ...eidAt('production'),
};

export const MOCK_BANK = {
  id: 'mock-bank',
  type: 'mock',
  name: { lv: 'Testa banka', en: 'Test bank' },
  ...bankAt('production', 'substantial'),
};

/** A banklink bank in testing; add `url`, `sender_id`, `receiver_id`, `private_key`, `bank_certificate`. */
export const BANKLINK_TEST_ENTRY = {
  id: 'testbank',
  type: 'banklink',
  name: { lv: 'Testa banka', en: 'Test bank' },
  ...bankAt('testing', 'high'),
};

/** A SAML eID (eIDAS node) in testing; add its `idp`. */
export const SAML_TEST_ENTRY = {
  id: 'eidas',
  type: 'saml',
  name: { lv: 'eIDAS', en: 'eIDAS' },
  ...eidAt('testing'),
};

/** A Smart-ID RP API (SK's demo relying party) in testing; add `url`, `ca_certificates`, `tls`, `pinned_certificates`. */
export const SMARTID_TEST_ENTRY = {
  id: 'smartid',
  type: 'smartid',
  name: { lv: 'Smart-ID', en: 'Smart-ID' },
  ...eidAt('testing'),
  relying_party_uuid: '00000000-0000-4000-8000-000000000000',
  relying_party_name: 'DEMO',
  environment: 'demo',
};

/** Mutual-TLS material for a back channel, as file paths. */
export interface BackChannelTls {
  ca: string;
  cert: string;
  key: string;
}

/**
 * An upstream OpenID provider in production with a mutual-TLS back channel: the test OP's entry
 * (providers/oidc/test-op/fixtures.ts) pointed at `https://eid.example.lv`, never contacted.
 */
export function productionOidcEntry(tls: BackChannelTls, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const entry = providerEntry(
    { issuer: 'https://eid.example.lv', tls: { ...tls, caPem: '', clientSubjectDn: '' } },
    'client_secret',
    {} as GatewayKeyFiles,
    'eid',
  );
  return { ...inProduction(entry), ...extra };
}

/** A banklink bank in production at `https://bank.example.lv/banklink` (never contacted). */
export function productionBankEntry(
  keys: { private_key: string; bank_certificate: string },
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    ...BANKLINK_TEST_ENTRY,
    id: 'bank',
    name: { lv: 'Banka', en: 'Bank' },
    loa: 'substantial',
    onboarding: bankOnboarding(),
    url: 'https://bank.example.lv/banklink',
    sender_id: 'VPM',
    receiver_id: 'BANK',
    ...keys,
    ...extra,
  };
}
