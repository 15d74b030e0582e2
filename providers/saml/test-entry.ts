// The provider-entry fields every SAML adapter test shares; each test adds its IdP and options.
export const SAML_TEST_ENTRY = {
  id: 'eidas',
  type: 'saml',
  name: { lv: 'eIDAS', en: 'eIDAS' },
  kind: 'eid',
  loa: 'high',
  onboarding: { stage: 'testing', free_of_charge: true, two_factor: true },
} as const;
