// Agency services authenticating at the token endpoint with certificates (RFC 8705), end to end:
// openid-client plays the service, a browser logs in through the mock provider, tokens are bound to
// the certificate. Once with the gateway terminating TLS itself, once behind a terminator that
// forwards the certificate in a header (and the header ignored from an untrusted address). The agency PKI
// and the gateway behind the real loader and listener are ./inbound-fixture.ts.
import { describe, test, expect, beforeAll } from '@jest/globals';
import tls from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { Agent, fetch as undiciFetch } from 'undici';
import type { Gateway } from '../../src/gateway.ts';
import { parseForwardedCertificate } from '../../src/tls/forwarded-certificate.ts';
import type { IssuedCertificate } from '../../src/tls/pki.ts';
import { tokenEndpointVerdict } from '../support/gateway.ts';
import { thumbprint } from '../support/digest.ts';
import {
  pki,
  files,
  closers,
  clientTransport,
  serviceConfig,
  loginAndExchange,
  startHere,
  useAgencyPki,
  type Started,
} from './inbound-fixture.ts';

useAgencyPki();

describe('the gateway terminating TLS itself', () => {
  let issuer: string;
  let gateway: Gateway;
  const browserFetch = globalThis.fetch;

  beforeAll(async () => {
    ({ issuer, gateway } = await startHere({ tls: { cert: files.server, key: files.serverKey, client_ca: files.ca } }));
    // the test browser (test/support/browser.ts uses global fetch) must trust the test CA; it has no client certificate
    globalThis.fetch = clientTransport('browser', undefined);
    closers.push(async () => {
      globalThis.fetch = browserFetch;
    });
  });

  test('tls_client_auth: login, token exchange with the certificate, access token bound to it', async () => {
    const asAgency = clientTransport('agency', pki.agency);
    const config = await serviceConfig(issuer, 'svc-mtls', asAgency);
    const tokens = await loginAndExchange(config);
    expect(tokens.claims()?.aud).toBe('svc-mtls');
    const stored = await gateway.provider.AccessToken.find(tokens.access_token);
    expect(stored?.['x5t#S256']).toBe(thumbprint(pki.agency.cert));

    const userinfo = `${issuer}/me`;
    const bearer = { authorization: `Bearer ${tokens.access_token}` };
    expect((await asAgency(userinfo, { headers: bearer })).status).toBe(200);
    // the same token from another certificate, or none, is refused
    const other = await clientTransport('other-agency', pki.otherAgency)(userinfo, { headers: bearer });
    expect(other.status).toBe(401);
    expect(other.headers.get('www-authenticate')).toContain('invalid_token');
    expect((await clientTransport('no-cert', undefined)(userinfo, { headers: bearer })).status).toBe(401);
  });

  test('self_signed_tls_client_auth: the registered self-signed certificate authenticates', async () => {
    const config = await serviceConfig(issuer, 'svc-self', clientTransport('self', pki.selfSigned));
    const tokens = await loginAndExchange(config);
    expect((await gateway.provider.AccessToken.find(tokens.access_token))?.['x5t#S256']).toBe(
      thumbprint(pki.selfSigned.cert),
    );
  });

  test('refusals at the token endpoint: no certificate, another CA with the same DN, another subject, unregistered self-signed', async () => {
    expect(await tokenEndpointVerdict(issuer, 'svc-mtls', clientTransport('agency2', pki.agency))).toBe(
      'invalid_grant',
    );
    expect(await tokenEndpointVerdict(issuer, 'svc-mtls', clientTransport('none', undefined))).toBe('invalid_client');
    expect(await tokenEndpointVerdict(issuer, 'svc-mtls', clientTransport('impostor', pki.impostor))).toBe(
      'invalid_client',
    );
    expect(await tokenEndpointVerdict(issuer, 'svc-mtls', clientTransport('other', pki.otherAgency))).toBe(
      'invalid_client',
    );
    expect(await tokenEndpointVerdict(issuer, 'svc-self', clientTransport('self2', pki.selfSigned))).toBe(
      'invalid_grant',
    );
    expect(await tokenEndpointVerdict(issuer, 'svc-self', clientTransport('self-agency', pki.agency))).toBe(
      'invalid_client',
    );
  });

  test('a client offering only TLS 1.1 is refused by the gateway', async () => {
    const port = Number(new URL(issuer).port);
    const outcome = await new Promise<string>((resolve) => {
      const s = tls.connect(
        {
          port,
          host: '127.0.0.1',
          ca: pki.ca.cert,
          minVersion: 'TLSv1',
          maxVersion: 'TLSv1.1',
          ciphers: 'DEFAULT@SECLEVEL=0',
        },
        () => resolve('connected'),
      );
      s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    });
    expect(outcome).toMatch(
      /ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION|ERR_SSL_UNSUPPORTED_PROTOCOL|ERR_SSL_NO_PROTOCOLS_AVAILABLE/,
    );
  });
});

const HEADER = 'x-ssl-client-cert';
const forwarded = (pem: string) => ({ [HEADER]: encodeURIComponent(pem) });

/** the terminator's side: a plain HTTP hop to the gateway, adding the header (and `also`); optionally from
 * another loopback address */
function viaTerminator(
  cert: IssuedCertificate | undefined,
  localAddress?: string,
  also: Record<string, string> = {},
): typeof fetch {
  const agent = new Agent(localAddress ? { localAddress } : {});
  closers.push(() => agent.close());
  return ((u: string, init: { headers?: ConstructorParameters<typeof Headers>[0] } = {}) => {
    const headers = new Headers(init.headers);
    if (cert) headers.set(HEADER, forwarded(cert.cert)[HEADER]!);
    for (const [name, value] of Object.entries(also)) headers.set(name, value);
    return undiciFetch(u, { ...(init as object), headers: Object.fromEntries(headers), dispatcher: agent });
  }) as unknown as typeof fetch;
}

describe('behind a TLS terminator forwarding the certificate in a header', () => {
  let gw: Started;

  beforeAll(async () => {
    gw = await startHere({
      client_certificate_header: { name: HEADER, trusted_proxies: ['127.0.0.1/32', '::1'], client_ca: files.ca },
    });
  });

  test('tls_client_auth through the header, and the token bound to the forwarded certificate', async () => {
    const asAgency = viaTerminator(pki.agency);
    const config = await serviceConfig(gw.issuer, 'svc-mtls', asAgency);
    const tokens = await loginAndExchange(config);
    expect((await gw.gateway.provider.AccessToken.find(tokens.access_token))?.['x5t#S256']).toBe(
      thumbprint(pki.agency.cert),
    );
    const bearer = { authorization: `Bearer ${tokens.access_token}` };
    expect((await asAgency(`${gw.issuer}/me`, { headers: bearer })).status).toBe(200);
    expect((await viaTerminator(pki.otherAgency)(`${gw.issuer}/me`, { headers: bearer })).status).toBe(401);
  });

  test('a forwarded certificate not issued by the client CA does not pass tls_client_auth', async () => {
    expect(await tokenEndpointVerdict(gw.issuer, 'svc-mtls', viaTerminator(pki.agency))).toBe('invalid_grant');
    expect(await tokenEndpointVerdict(gw.issuer, 'svc-mtls', viaTerminator(pki.impostor))).toBe('invalid_client');
    expect(await tokenEndpointVerdict(gw.issuer, 'svc-mtls', viaTerminator(undefined))).toBe('invalid_client');
  });

  test('the header is ignored from an address that is not a trusted proxy', async () => {
    // 127.0.0.2 is loopback too, but not in trusted_proxies
    const fromElsewhere = viaTerminator(pki.agency, '127.0.0.2');
    expect(await tokenEndpointVerdict(gw.issuer, 'svc-mtls', fromElsewhere)).toBe('invalid_client');
    expect(await tokenEndpointVerdict(gw.issuer, 'svc-self', viaTerminator(pki.selfSigned, '127.0.0.2'))).toBe(
      'invalid_client',
    );
    expect(await tokenEndpointVerdict(gw.issuer, 'svc-self', viaTerminator(pki.selfSigned))).toBe('invalid_grant');
  });

  test('an IPv6 block takes in no IPv4 peer; an IPv4-mapped entry names the IPv4 block it spells', async () => {
    // node:net's BlockList alone would put every IPv4 peer in ::/80 (as ::ffff:a.b.c.d); Express's
    // proxy-addr does not, and the header must not be trusted more widely than X-Forwarded-For
    const wide = await startHere({
      client_certificate_header: {
        name: HEADER,
        trusted_proxies: ['::/80', '::ffff:127.0.0.2/128'],
        client_ca: files.ca,
      },
    });
    expect(await tokenEndpointVerdict(wide.issuer, 'svc-mtls', viaTerminator(pki.agency))).toBe('invalid_client');
    expect(await tokenEndpointVerdict(wide.issuer, 'svc-mtls', viaTerminator(pki.agency, '127.0.0.2'))).toBe(
      'invalid_grant',
    );
  });
});

describe('behind a terminator that reports its own verification of the certificate', () => {
  const VERIFY = 'x-ssl-client-verify';
  let gw: Started;

  beforeAll(async () => {
    gw = await startHere({
      client_certificate_header: {
        name: HEADER,
        verify_header: VERIFY,
        trusted_proxies: ['127.0.0.1/32'],
        client_ca: files.ca,
      },
    });
  });

  test('a certificate of the client CA passes only when the terminator says SUCCESS (it may know it revoked)', async () => {
    const saying = (verdict?: string) => viaTerminator(pki.agency, undefined, verdict ? { [VERIFY]: verdict } : {});
    expect(await tokenEndpointVerdict(gw.issuer, 'svc-mtls', saying('SUCCESS'))).toBe('invalid_grant');
    expect(await tokenEndpointVerdict(gw.issuer, 'svc-mtls', saying('FAILED:certificate revoked'))).toBe(
      'invalid_client',
    );
    expect(await tokenEndpointVerdict(gw.issuer, 'svc-mtls', saying())).toBe('invalid_client');
  });
});

describe('forwarded certificate formats', () => {
  test('URL-encoded PEM, PEM with spaces, base64 DER; garbage is no certificate', () => {
    const der = new X509Certificate(pki.agency.cert).raw;
    for (const v of [
      encodeURIComponent(pki.agency.cert),
      pki.agency.cert.replace(/\n/g, ' '),
      der.toString('base64'),
    ]) {
      expect(parseForwardedCertificate(v)?.raw.equals(der)).toBe(true);
    }
    expect(parseForwardedCertificate('%%%')).toBeUndefined();
    expect(parseForwardedCertificate('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----')).toBeUndefined();
  });
});
