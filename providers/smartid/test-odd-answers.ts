// For the tests of the checks a Smart-ID relying party makes on a completed RP API v3 session
// (./checks.test.ts): an issuing CA that has expired (certificates with the other defects come from
// TestCa.issuePerson's options), and the test phone's answer to a running session signed with a
// certificate of the test's choosing. The answer is signed exactly as the test peer signs every answer
// (./test-rp-api/sessions.ts: ACSP_V2 payload, RSASSA-PSS), so the only defect in it is the certificate's.
import { type Authority, authority, type IssuedCertificate, type TestCa } from './test-rp-api/ca.ts';
import type { TestRpApi } from './test-rp-api/server.ts';
import { completion, type TestSession } from './test-rp-api/sessions.ts';

/**
 * An issuing CA under the test CA's root that expired yesterday (an SK intermediate an operator left in
 * `ca_certificates`): `pem` is what the entry configures beside the test CA's own.
 */
export async function expiredIssuingCa(ca: TestCa): Promise<Authority & { pem: string }> {
  const expired = await authority('CN=TEST of SK ID Solutions EID-Q 2016E, O=SK ID Solutions AS, C=EE', ca.root, true);
  return { ...expired, pem: `${expired.cert.toString('pem')}\n` };
}

/** The phone confirms a running session, the app signing with `cert` (what `act(id, 'confirm')` does with the account's own). */
export function answerWith(api: TestRpApi, session: TestSession, cert: IssuedCertificate): void {
  if (session.result) throw new Error('the session has already ended');
  session.result = completion(session, 'confirm', cert, api.options.schemeName ?? 'smart-id-demo');
  for (const wake of session.waiters.splice(0)) wake();
}
