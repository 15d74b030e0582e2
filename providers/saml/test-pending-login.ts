// A SAML login that has sent its AuthnRequest, straight at the adapter, for tests that hand it crafted or
// re-dated responses: what the broker would hold, the spec of the IdP's answer to it, and how to deliver one.
import type { CallbackResult } from '../../src/broker/adapter.ts';
import { TEST_BROWSER_DIGEST } from '../../test/support/broker.ts';
import type { SamlAdapter } from './index.ts';
import type { ResponseSpec } from './test-idp/response-builder.ts';

export interface PendingSamlLogin {
  connData: { requestId: string };
  /** the IdP's genuine answer to this login, to vary */
  spec: ResponseSpec;
  /** posts `xml` to the ACS of `to` (default: the adapter that started the login) */
  deliver(xml: string, to?: SamlAdapter): Promise<CallbackResult>;
  loginStartedAt: number;
}

export async function pendingSamlLogin(
  adapter: SamlAdapter,
  at: { acs: string; idp: string; attributes: Record<string, string[]>; correlationId: string },
): Promise<PendingSamlLogin> {
  const loginStartedAt = Date.now();
  const state = 'S'.repeat(27);
  const { acs: callbackUrl, correlationId } = at;
  const started = await adapter.start({
    browser: TEST_BROWSER_DIGEST,
    state,
    callbackUrl,
    locale: 'en',
    correlationId,
  });
  const connData = started.connData as { requestId: string };
  const spec: ResponseSpec = {
    idpEntityId: at.idp,
    spEntityId: adapter.spEntityId,
    acsUrl: callbackUrl,
    inResponseTo: connData.requestId,
    classRef: 'http://eidas.europa.eu/LoA/high',
    attributes: at.attributes,
  };
  const deliver = (xml: string, to: SamlAdapter = adapter): Promise<CallbackResult> =>
    to.callback({
      params: { SAMLResponse: Buffer.from(xml, 'utf8').toString('base64'), RelayState: state },
      method: 'POST',
      connData,
      callbackUrl,
      correlationId,
      loginStartedAt,
      authenticatedNotBefore: undefined,
    });
  return { connData, spec, deliver, loginStartedAt };
}
