// The test RP API run standalone (`npm run test-smartid`), spoken to as a relying party does: the entry it
// prints configures a pinned TLS client and the CA set, a session started on it completes with an answer
// that passes every relying-party check, and its OCSP responder vouches for the certificate. The entry and
// its joining record, pasted as printed, pass `config check`.
import { readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { Agent, fetch as undiciFetch } from 'undici';
import { parse } from 'yaml';
import { createProviderTransport } from '../../src/tls/transport.ts';
import { spkiSha256 } from '../../src/tls/policy.ts';
import { pastesPassConfigCheck, printedParts, runningTestPeer } from '../../test/support/test-peer-paste.ts';
import { readCertificates } from './adapter.ts';
import { verifyCompletedSession } from './answer.ts';
import { encodeInteractions, loginInteractions, newRpChallenge } from './protocol.ts';
import { checkRevocation } from './revocation.ts';
import { RpApi, rpCallLimitMs } from './rp-api.ts';

interface Entry {
  url: string;
  ca_certificates: string[];
  tls: { ca: string };
  pinned_certificates: string[];
  ocsp: { url: string };
}

const peer = runningTestPeer('providers/smartid/test-rp-api/main.ts', async (dir) => ['--port', '0', '--dir', dir]);
let printed: Entry;
let phoneUrl: string;

beforeAll(() => {
  printed = (parse(printedParts(peer().printed).entry) as Entry[])[0]!;
  phoneUrl = /its phone at (\S+)\n/.exec(peer().printed)![1]!;
});

pastesPassConfigCheck(peer, 'test-smartid');

test('a relying party configured from what it prints completes a verified login, and its phone page lists waiting sessions', async () => {
  const pins = printed.pinned_certificates.flatMap(readCertificates).map(spkiSha256);
  const transport = createProviderTransport('standalone', { ca: printed.tls.ca, pins });
  try {
    const api = new RpApi({ url: printed.url, transport, callLimitMs: rpCallLimitMs(1000) });
    const rpChallenge = newRpChallenge();
    const interactions = encodeInteractions(loginInteractions('Test service', 'notification'));
    const body = {
      relyingPartyUUID: '00000000-0000-4000-8000-000000000000',
      relyingPartyName: 'DEMO',
      certificateLevel: 'QUALIFIED',
      signatureProtocol: 'ACSP_V2',
      signatureProtocolParameters: {
        rpChallenge,
        signatureAlgorithm: 'rsassa-pss',
        signatureAlgorithmParameters: { hashAlgorithm: 'SHA-512' },
      },
      interactions,
      vcType: 'numeric4',
    };
    // the person whose phone waits: the phone page lists the session
    const waiting = await api.startNotification('PNOLV-010180-15097', body);
    expect(waiting.ok).toBe(true);
    const browserAgent = new Agent({ connect: { ca: readFileSync(printed.tls.ca, 'utf8') } });
    const phone = await undiciFetch(phoneUrl, { dispatcher: browserAgent });
    expect(await phone.text()).toContain('Jānis Bērziņš');
    await browserAgent.close();

    const started = await api.startNotification('PNOLV-030303-10004', body);
    if (!started.ok) throw new Error('session not started');
    const polled = await api.poll(started.sessionID, 1000);
    if (polled.running || polled.ending.type !== 'complete') throw new Error('session did not complete');
    const verified = verifyCompletedSession(
      polled.ending.session,
      {
        schemeName: 'smart-id-demo',
        rpChallenge,
        relyingPartyName: 'DEMO',
        interactions,
        initialCallbackUrl: '',
        flowTypes: ['Notification'],
        semanticsIdentifier: 'PNOLV-030303-10004',
        requiredLevel: 'QUALIFIED',
        hashAlgorithm: 'SHA-512',
      },
      printed.ca_certificates.flatMap(readCertificates),
    );
    expect([verified.semanticsIdentifier, verified.level]).toEqual(['PNOLV-030303-10004', 'QUALIFIED']);
    const certificate = new X509Certificate(verified.certificate.raw);
    expect(certificate.issuer).toContain('TEST of SK ID Solutions');
    // the CA's OCSP responder the entry names vouches for the certificate
    const issuer = printed.ca_certificates.flatMap(readCertificates).find((ca) => certificate.checkIssued(ca))!;
    const options = {
      url: printed.ocsp.url,
      responders: [],
      maxAgeSeconds: 86_400,
      requireNonce: true,
      timeoutMs: 5000,
    };
    expect(await checkRevocation(certificate, issuer, options)).toEqual({ status: 'good' });
  } finally {
    await transport.close();
  }
});
