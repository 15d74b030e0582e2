// The test eID's people and the eIDAS levels it can assert: what its login page offers and tests pick.
export interface TestUser {
  given_name?: string;
  family_name?: string;
  /** semantics identifier, e.g. PNOLV-010180-15097 */
  serial_number?: string;
  [claim: string]: unknown;
}

/** Test users: one valid person, one without a personal code, one with an invalid one. */
export const TEST_USERS: Record<string, TestUser> = {
  valid: { given_name: 'Jānis', family_name: 'Bērziņš', serial_number: 'PNOLV-010180-15097' },
  estonian: { given_name: 'Mari', family_name: 'Maasikas', serial_number: 'PNOEE-60001019906' },
  nocode: { given_name: 'Anna', family_name: 'Liepa' },
  badcode: { given_name: 'Pēteris', family_name: 'Kalniņš', serial_number: 'PNOLV-123456-12345' },
};

export const EIDAS = {
  low: 'http://eidas.europa.eu/LoA/low',
  substantial: 'http://eidas.europa.eu/LoA/substantial',
  high: 'http://eidas.europa.eu/LoA/high',
} as const;

/** The acr values the login page offers (the first preselected), among them one no eIDAS level maps to,
 * which the gateway must refuse. */
export const ACR_VALUES: readonly string[] = [EIDAS.high, EIDAS.substantial, EIDAS.low, 'urn:test:unmapped'];
