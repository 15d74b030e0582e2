// What a test IdP can be told: the one SP it trusts, its key, attribute profile and level, its test users,
// and whether it insists on the eIDAS request extensions or reuses a session despite ForceAuthn.
import type { AttributePreset } from '../attributes.ts';
import type { Loa } from '../../../src/identity/loa.ts';
import type { KeyPair } from '../keys.ts';

export interface TestUser {
  /** national code, e.g. `010180-15097` */
  personalCode: string;
  country?: string;
  givenName: string;
  familyName: string;
  /** YYYY-MM-DD, released as eIDAS DateOfBirth when requested */
  dateOfBirth?: string;
}

/** The SP this IdP serves (a test IdP trusts exactly one SP). */
export interface TrustedSp {
  entityId: string;
  /** PEM certificate that signs AuthnRequests */
  signingCert: string;
  /** PEM certificate to encrypt assertions to (needed when `encryptAssertions`) */
  encryptionCert?: string;
  /** when set, AuthnRequests must name exactly this ACS URL */
  acsUrl?: string;
}

export interface TestIdpOptions {
  /** the public URL the router is mounted at (router mode); startTestIdp() sets it */
  baseUrl?: string;
  /** default `<baseUrl>/metadata` */
  entityId?: string;
  /** generated when absent */
  key?: KeyPair;
  /** the SP, or a function that finds it at request time (when the SP is created after the IdP) */
  sp: TrustedSp | (() => TrustedSp | Promise<TrustedSp>);
  encryptAssertions?: boolean;
  signResponse?: boolean;
  signAssertion?: boolean;
  /** which attribute names the IdP releases */
  profile?: AttributePreset;
  /** level the IdP authenticates at */
  loa?: Loa;
  users?: TestUser[];
  /** refuse AuthnRequests without the eIDAS extensions; default: on in the eidas profile */
  requireEidasExtensions?: boolean;
  /** answer from an existing session even when the request says ForceAuthn="true" */
  ignoreForceAuthn?: boolean;
}

export interface IdpMetadataOptions {
  /** default: a day from now; null for none */
  validUntil?: Date | null;
  /** enveloped signature with the IdP's key (default true) */
  sign?: boolean;
}

export const DEFAULT_TEST_USERS: TestUser[] = [
  { personalCode: '010180-15097', givenName: 'Jānis', familyName: 'Bērziņš', dateOfBirth: '1980-01-01' },
  { personalCode: '38001085718', country: 'EE', givenName: 'Mari', familyName: 'Maasikas', dateOfBirth: '1980-01-08' },
];
