// The test RP API run standalone (`npm run test-smartid`), spoken to as a relying party does: the files it
// prints configure a pinned TLS client and the CA set, and a session started on it completes with an
// answer that passes every relying-party check.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { Agent, fetch as undiciFetch } from 'undici';
import { createProviderTransport } from '../../src/tls/transport.ts';
import { spkiSha256 } from '../../src/tls/policy.ts';
import { NODE, root } from '../../test/e2e/demo-suite.ts';
import { readCertificates } from './adapter.ts';
import { verifyCompletedSession } from './answer.ts';
import { encodeInteractions, loginInteractions, newRpChallenge } from './protocol.ts';
import { RpApi, rpCallLimitMs } from './rp-api.ts';

interface Printed {
  url: string;
  phone: string;
  ca_certificates: string[];
  tls: { ca: string };
  pinned_certificates: string[];
}

let child: ChildProcess;
let dir: string;
let printed: Printed;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'smartid-standalone-'));
  child = spawn(NODE, [join(root, 'providers/smartid/test-rp-api/main.ts'), '--port', '0', '--dir', dir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  printed = await new Promise<Printed>((ok, fail) => {
    const take = (d: Buffer) => {
      output += d.toString();
      const line = output.split('\n').find((l) => l.includes('test RP API listening'));
      if (line) ok(JSON.parse(line) as Printed);
    };
    child.stdout!.on('data', take);
    child.stderr!.on('data', take);
    child.once('exit', (code) => fail(new Error(`test RP API exited with ${code}: ${output}`)));
  });
}, 60_000);

afterAll(async () => {
  if (child.exitCode === null) {
    child.kill('SIGTERM');
    await new Promise((ok) => child.once('exit', ok));
  }
  rmSync(dir, { recursive: true, force: true });
});

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
    const phone = await undiciFetch(printed.phone, { dispatcher: browserAgent });
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
    expect(new X509Certificate(verified.certificate.raw).issuer).toContain('TEST of SK ID Solutions');
  } finally {
    await transport.close();
  }
});
