// Known-answer tests: SK's published verification-code vectors and the ACSP_V2 payload of SK's
// signature-protocol example, byte for byte.
import { createHash } from 'node:crypto';
import { authCode, deviceLink, sessionSecretDigest } from './device-link.ts';
import { acspV2Payload, encodeInteractions, loginInteractions, verificationCode } from './protocol.ts';

describe('verification code', () => {
  test('v2: SHA-256("Hello World!") as the hash gives 7712', () => {
    expect(verificationCode(createHash('sha256').update('Hello World!').digest())).toBe('7712');
  });

  test('v3: the documented rpChallenge gives 7180', () => {
    const rpChallenge = 'GYS+yoah6emAcVDNIajwSs6UB/M95XrDxMzXBUkwQJ9YFDipXXzGpPc7raWcuc2+TEoRc7WvIZ/7dU/iRXenYg==';
    expect(verificationCode(Buffer.from(rpChallenge, 'base64'))).toBe('7180');
  });

  test('always four digits: a digest ending in a small number is zero-padded', () => {
    // find an input whose last two digest bytes are below 1000 and check the padding on it
    let i = 1;
    const small = (n: number) => createHash('sha256').update(String(n)).digest().readUInt16BE(30) % 10000 < 1000;
    while (!small(i)) i += 1;
    const raw = Buffer.from(String(i));
    expect(verificationCode(raw)).toMatch(/^0\d{3}$/);
  });
});

describe('ACSP_V2 payload', () => {
  const example = {
    schemeName: 'smart-id',
    serverRandom: 'MTlop6EXCrQ6FOErcKjxUhbV',
    rpChallenge: 'GYS+yoah6emAcVDNIajwSs6UB/M95XrDxMzXBUkwQJ9YFDipXXzGpPc7raWcuc2+TEoRc7WvIZ/7dU/iRXenYg==',
    userChallenge: 'GnsWXXEjTCKR89fj9uo5u5ReBZ9JR7_pezLAI5jMS00',
    relyingPartyName: 'DEMO',
    brokeredRpName: 'Example RP',
    interactions:
      'W3sidHlwZSI6ImNvbmZpcm1hdGlvbk1lc3NhZ2UiLCJkaXNwbGF5VGV4dDIwMCI6IkxvbmdlciBkZXNjcmlwdGlvbiBvZiB0aGUgdHJhbnNhY3Rpb24gY29udGV4dCJ9LHsidHlwZSI6ImRpc3BsYXlUZXh0QW5kUElOIiwiZGlzcGxheVRleHQ2MCI6IlNob3J0IGRlc2NyaXB0aW9uIG9mIHRoZSB0cmFuc2FjdGlvbiBjb250ZXh0In1d',
    interactionTypeUsed: 'confirmationMessage',
    initialCallbackUrl: 'https://rp.example.com/callback-url?value=RrKjjT4aggzu27YBddX1bQ',
    flowType: 'Web2App',
  };

  test("SK's example: the payload and its SHA-512 digest", () => {
    const payload = acspV2Payload(example);
    expect(payload.toString('utf8')).toBe(
      'smart-id|ACSP_V2|MTlop6EXCrQ6FOErcKjxUhbV|GYS+yoah6emAcVDNIajwSs6UB/M95XrDxMzXBUkwQJ9YFDipXXzGpPc7raWcuc2+TEoRc7WvIZ/7dU/iRXenYg==|GnsWXXEjTCKR89fj9uo5u5ReBZ9JR7_pezLAI5jMS00|REVNTw==|RXhhbXBsZSBSUA==|' +
        `${createHash('sha256').update(example.interactions).digest('base64')}|confirmationMessage|https://rp.example.com/callback-url?value=RrKjjT4aggzu27YBddX1bQ|Web2App`,
    );
    expect(createHash('sha512').update(payload).digest('base64')).toBe(
      'pKOjbNl/5Fy8NfrFqsj6pSn8W8O+Ik8rM33QSsbyD3J9qDJvEm90SboUciuY4wHGWa0Pnq8BgT3NJKmJiUDfKg==',
    );
  });

  test('empty fields keep their separators (notification flow: no broker, no callback)', () => {
    const text = acspV2Payload({
      ...example,
      brokeredRpName: '',
      initialCallbackUrl: '',
      flowType: 'Notification',
    }).toString();
    expect(text).toContain('|REVNTw==||');
    expect(text.endsWith('|confirmationMessage||Notification')).toBe(true);
    expect(text.split('|')).toHaveLength(11);
  });

  test('interactions are base64 of the JSON array the app shows, the service name cut to the app limits', () => {
    const long = 'Ļoti gara e-pakalpojuma nosaukuma teksts '.repeat(8);
    const decoded = JSON.parse(
      Buffer.from(encodeInteractions(loginInteractions(long, 'notification')), 'base64').toString(),
    );
    expect(decoded[0]).toEqual({
      type: 'confirmationMessageAndVerificationCodeChoice',
      displayText200: long.slice(0, 200),
    });
    expect(decoded[1]).toEqual({ type: 'displayTextAndPIN', displayText60: long.slice(0, 60) });
  });
});

describe('device links', () => {
  const interactions =
    'W3sidHlwZSI6ImNvbmZpcm1hdGlvbk1lc3NhZ2UiLCJkaXNwbGF5VGV4dDIwMCI6IkxvbmdlciBkZXNjcmlwdGlvbiBvZiB0aGUgdHJhbnNhY3Rpb24gY29udGV4dCJ9LHsidHlwZSI6ImRpc3BsYXlUZXh0QW5kUElOIiwiZGlzcGxheVRleHQ2MCI6IlNob3J0IGRlc2NyaXB0aW9uIG9mIHRoZSB0cmFuc2FjdGlvbiBjb250ZXh0In1d';
  const example = {
    deviceLinkBase: 'https://smart-id.com/device-link',
    deviceLinkType: 'QR' as const,
    elapsedSeconds: 22,
    sessionToken: 'wGIrqveE6AuGDATZKmR1mtAZ',
    sessionSecret: 'B98ODiVCebRedSwdTk51zFSaGYyHtY1H2A0ocAi3/Ps=',
    schemeName: 'smart-id',
    rpChallenge: 'GYS+yoah6emAcVDNIajwSs6UB/M95XrDxMzXBUkwQJ9YFDipXXzGpPc7raWcuc2+TEoRc7WvIZ/7dU/iRXenYg==',
    relyingPartyName: 'DEMO',
    brokeredRpName: 'Example RP',
    interactions,
    initialCallbackUrl: '',
    lang: 'eng',
  };

  test("SK's authentication device link example: the link and its authCode", () => {
    expect(deviceLink(example)).toBe(
      'https://smart-id.com/device-link?deviceLinkType=QR&elapsedSeconds=22&sessionToken=wGIrqveE6AuGDATZKmR1mtAZ&sessionType=auth&version=1.0&lang=eng&authCode=OY1eHaD4UYedrBwtqUbSkpa0w7ttm4FllPkCD_3wlE0',
    );
  });

  test('a Web2App link carries no elapsedSeconds, and its authCode covers the callback URL', () => {
    const web2app = {
      ...example,
      deviceLinkType: 'Web2App' as const,
      initialCallbackUrl: 'https://gw.example/return?h=a',
    };
    expect(deviceLink(web2app)).not.toContain('elapsedSeconds');
    expect(authCode(web2app)).not.toBe(authCode({ ...web2app, initialCallbackUrl: 'https://gw.example/return?h=b' }));
  });

  test('the session secret digest is base64url SHA-256 of the secret bytes', () => {
    expect(sessionSecretDigest(example.sessionSecret)).toBe(
      createHash('sha256').update(Buffer.from(example.sessionSecret, 'base64')).digest('base64url'),
    );
  });
});
