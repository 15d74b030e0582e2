// The IdP's answer to the SP, by HTTP-POST binding: a signed (optionally encrypted) Response carrying the
// person's attributes at the IdP's level, or the status an eIDAS node sends when the citizen cancels or
// the level asked for is above what the IdP authenticates at.
import type { Response } from 'express';
import { LOA_URI, loaRank } from '../../../src/identity/loa.ts';
import { ATTRIBUTE_PRESETS, EIDAS_NATURAL_PERSON } from '../attributes.ts';
import type { RequestedAttribute } from '../eidas.ts';
import type { KeyPair } from '../keys.ts';
import type { Pending } from './authn-request.ts';
import type { TestIdpOptions, TestUser, TrustedSp } from './options.ts';
import { autoPostForm } from './pages.ts';
import { STATUS, issueResponse } from './response-builder.ts';

export type Respond = (
  res: Response,
  p: Pending,
  action: 'login' | 'cancel',
  userIndex: number,
  authnInstant: number,
) => Promise<void>;

export function responder(
  options: TestIdpOptions,
  idp: {
    entityId: string;
    key: KeyPair;
    users: TestUser[];
    /** the trusted SP, found at request time */
    sp: () => Promise<TrustedSp>;
    /** the IdP's clock (ms), which tests may set off ours */
    clock: () => number;
  },
): Respond {
  const { entityId, key, users, sp, clock } = idp;
  const loa = options.loa ?? 'substantial';
  const mapping = ATTRIBUTE_PRESETS[options.profile ?? 'eidas'];
  const eidasProfile = (options.profile ?? 'eidas') === 'eidas';

  function attributesFor(user: TestUser, requested: RequestedAttribute[] | undefined): Record<string, string[]> {
    const country = user.country ?? 'LV';
    const code =
      mapping.personal_code.format === 'eidas'
        ? `${country}/LV/${user.personalCode}`
        : mapping.personal_code.format === 'etsi'
          ? `PNO${country}-${user.personalCode}`
          : user.personalCode;
    const all: Record<string, string[]> = {
      [mapping.given_name]: [user.givenName],
      [mapping.family_name]: [user.familyName],
      [mapping.personal_code.name]: [code],
    };
    if (eidasProfile && user.dateOfBirth) all[`${EIDAS_NATURAL_PERSON}DateOfBirth`] = [user.dateOfBirth];
    // an eIDAS node releases what was requested, nothing more
    if (!eidasProfile || !requested) return all;
    const wanted = new Set(requested.map((a) => a.name));
    return Object.fromEntries(Object.entries(all).filter(([name]) => wanted.has(name)));
  }

  return async function respond(res, p, action, userIndex, authnInstant) {
    const trusted = await sp();
    const base = {
      idpEntityId: entityId,
      spEntityId: trusted.entityId,
      acsUrl: p.acsUrl,
      inResponseTo: p.requestId,
      now: clock(),
    };
    let spec: Parameters<typeof issueResponse>[0];
    if (action === 'cancel') {
      // what an eIDAS node sends when the citizen cancels or refuses consent
      spec = {
        ...base,
        status: {
          code: `${STATUS}Responder`,
          subCode: `${STATUS}RequestDenied`,
          message: 'Citizen consent not given.',
        },
      };
    } else if (p.minimumLoa && loaRank(loa) < loaRank(p.minimumLoa)) {
      spec = { ...base, status: { code: `${STATUS}Responder`, subCode: `${STATUS}NoAuthnContext` } };
    } else {
      spec = {
        ...base,
        authnInstant,
        classRef: LOA_URI[loa],
        attributes: attributesFor(users[userIndex] ?? users[0]!, p.requested),
      };
    }
    if (options.encryptAssertions && !trusted.encryptionCert)
      throw new Error('test IdP: encryptAssertions needs the SP encryption certificate');
    const xml = await issueResponse(spec, {
      key,
      signResponse: options.signResponse ?? true,
      signAssertion: options.signAssertion ?? true,
      encryptFor: options.encryptAssertions ? trusted.encryptionCert : undefined,
    });
    const fields: Record<string, string> = { SAMLResponse: Buffer.from(xml, 'utf8').toString('base64') };
    if (p.relayState !== undefined) fields.RelayState = p.relayState;
    const cspNonce = res.locals.cspNonce;
    res.type('html').send(autoPostForm(p.acsUrl, fields, typeof cspNonce === 'string' ? cspNonce : undefined));
  };
}
