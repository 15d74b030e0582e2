// Attacks on the SAML service-provider side, one test each with a crafted response
// (./test-crafted-responses.ts): conditions and the binding to the request (audience, recipient, validity
// and clock skew, replay, InResponseTo, delivery twice or by GET, the level of assurance).
import { TEST_BROWSER_DIGEST } from '../../test/support/broker.ts';
import { issueResponse, newId } from './test-idp/response-builder.ts';
import {
  attack,
  useCraftedResponses,
  pendingLogin,
  attributesOf,
  edit,
  refused,
  ACS,
  IDP,
  VICTIM,
} from './test-crafted-responses.ts';

useCraftedResponses();

describe('conditions and binding to the request', () => {
  test.each([
    ['audience', { audience: 'https://other-sp.test' }, /audience/],
    ['Destination', { destination: 'https://other-sp.test/acs' }, /Destination/],
    ['bearer Recipient', { recipient: 'https://other-sp.test/acs' }, /Recipient/],
    ['Issuer (another IdP, same key)', { idpEntityId: 'https://other-idp.test' }, /Issuer/],
  ] as const)('wrong %s', async (_what, changed, reason) => {
    const l = await pendingLogin();
    await refused(
      l.deliver(await issueResponse({ ...l.spec, ...changed }, { key: attack.idpKey })),
      'invalid_response',
      reason,
    );
  });

  test('expired (beyond the clock skew)', async () => {
    const l = await pendingLogin();
    const now = Date.now() - 10 * 60_000; // valid for 5 minutes from 10 minutes ago, though issued now
    const issued = { responseIssueInstant: Date.now(), assertionIssueInstant: Date.now() };
    await refused(
      l.deliver(await issueResponse({ ...l.spec, now, ...issued }, { key: attack.idpKey })),
      'invalid_response',
      /expired/,
    );
  });

  test('not yet valid (beyond the clock skew)', async () => {
    const l = await pendingLogin();
    await refused(
      l.deliver(await issueResponse({ ...l.spec, notBefore: Date.now() + 5 * 60_000 }, { key: attack.idpKey })),
      'invalid_response',
      /not yet valid/,
    );
  });

  test('within the clock skew is accepted', async () => {
    const l = await pendingLogin();
    await expect(
      l.deliver(await issueResponse({ ...l.spec, notBefore: Date.now() + 10_000 }, { key: attack.idpKey })),
    ).resolves.toMatchObject({ identity: { personalCode: '010180-15097' } });
  });

  // the adapter allows 30 s of clock skew either way, no more
  test.each([
    ['that ended 10 s ago: accepted', { notOnOrAfter: -10_000 }, undefined],
    ['that ended 45 s ago: expired', { notOnOrAfter: -45_000 }, /has expired/],
    ['that begins 45 s ahead: not yet valid', { notBefore: 45_000 }, /not yet valid/],
  ] as const)('a validity window %s', async (_what, offsets, reason) => {
    const l = await pendingLogin();
    const at = Object.fromEntries(Object.entries(offsets).map(([k, ms]) => [k, Date.now() + ms]));
    const answer = l.deliver(await issueResponse({ ...l.spec, ...at }, { key: attack.idpKey }));
    if (reason) await refused(answer, 'invalid_response', reason);
    else await expect(answer).resolves.toBeDefined();
  });

  test('replayed assertion: the same assertion ID answering a new request', async () => {
    const assertionId = newId();
    const first = await pendingLogin();
    await first.deliver(await issueResponse({ ...first.spec, assertionId }, { key: attack.idpKey }));
    const second = await pendingLogin();
    await refused(
      second.deliver(await issueResponse({ ...second.spec, assertionId }, { key: attack.idpKey })),
      'invalid_response',
      /replayed/,
    );
  });

  test('unknown InResponseTo (answer to a request this login never sent)', async () => {
    const l = await pendingLogin();
    await refused(
      l.deliver(await issueResponse({ ...l.spec, inResponseTo: newId() }, { key: attack.idpKey })),
      'invalid_response',
      /InResponseTo/,
    );
  });

  test('InResponseTo of another pending login', async () => {
    const mine = await pendingLogin();
    const other = await pendingLogin();
    await refused(
      mine.deliver(
        await issueResponse({ ...mine.spec, inResponseTo: other.connData.requestId }, { key: attack.idpKey }),
      ),
      'invalid_response',
      /InResponseTo/,
    );
  });

  test('a signed assertion answering another request, inside an unsigned Response re-addressed to this login', async () => {
    const mine = await pendingLogin();
    const other = await pendingLogin();
    // genuinely signed by the IdP for the other login; only the unsigned envelope is changed
    const xml = edit(
      await issueResponse(
        { ...mine.spec, inResponseTo: other.connData.requestId },
        { key: attack.idpKey, signResponse: false },
      ),
      (doc) => {
        doc.documentElement!.setAttribute('InResponseTo', mine.connData.requestId);
      },
    );
    await refused(mine.deliver(xml), 'invalid_response', /bearer InResponseTo does not match/);
  });

  test('reused InResponseTo: a second, fresh response to an answered request', async () => {
    const l = await pendingLogin();
    await l.deliver(await issueResponse(l.spec, { key: attack.idpKey }));
    await refused(
      l.deliver(await issueResponse(l.spec, { key: attack.idpKey })),
      'invalid_response',
      /InResponseTo reuse/,
    );
  });

  test('the same response delivered twice', async () => {
    const l = await pendingLogin();
    const xml = await issueResponse(l.spec, { key: attack.idpKey });
    await l.deliver(xml);
    await refused(l.deliver(xml), 'invalid_response');
  });

  test('a response by GET is refused', async () => {
    const l = await pendingLogin();
    const xml = await issueResponse(l.spec, { key: attack.idpKey });
    await refused(
      attack.adapter.callback({
        params: { SAMLResponse: Buffer.from(xml).toString('base64') },
        method: 'GET',
        connData: l.connData,
        callbackUrl: ACS,
        correlationId: 'c',
        loginStartedAt: l.loginStartedAt,
        authenticatedNotBefore: undefined,
      }),
      'invalid_response',
      /HTTP-POST/,
    );
  });

  test('a level below the requested one is loa_too_low', async () => {
    const loginStartedAt = Date.now();
    const started = await attack.adapter.start({
      browser: TEST_BROWSER_DIGEST,
      state: 'S'.repeat(27),
      callbackUrl: ACS,
      acr: 'high',
      locale: 'en',
      correlationId: 'c',
    });
    const requestId = (started.connData as { requestId: string }).requestId;
    const xml = await issueResponse(
      {
        idpEntityId: IDP,
        spEntityId: attack.adapter.spEntityId,
        acsUrl: ACS,
        inResponseTo: requestId,
        classRef: 'http://eidas.europa.eu/LoA/substantial',
        attributes: attributesOf(VICTIM),
      },
      { key: attack.idpKey },
    );
    await refused(
      attack.adapter.callback({
        params: { SAMLResponse: Buffer.from(xml).toString('base64') },
        method: 'POST',
        connData: started.connData,
        acr: 'high',
        callbackUrl: ACS,
        correlationId: 'c',
        loginStartedAt,
        authenticatedNotBefore: undefined,
      }),
      'loa_too_low',
    );
  });

  test('an unknown AuthnContextClassRef gives no level', async () => {
    const l = await pendingLogin();
    await refused(
      l.deliver(
        await issueResponse(
          { ...l.spec, classRef: 'urn:oasis:names:tc:SAML:2.0:ac:classes:Password' },
          { key: attack.idpKey },
        ),
      ),
      'invalid_response',
      /level of assurance/,
    );
  });
});
