// Production mode refuses what is unsafe in the configuration's entries, through the operator's real
// commands: `vpm-gateway config check FILE` and `vpm-gateway start --config FILE` (src/cli/main.ts main())
// refuse the same file with the same lines, each naming its config path, and `start` refuses before it
// writes anything: no token key, no audit key, no audit directory, no adapter key is left behind
// (./production-config.ts). The store, the listener and key file modes are in
// ./production-refusals-transport-and-files.test.ts.
import { describe, test, expect } from '@jest/globals';
import { existsSync } from 'node:fs';
import { runCli } from '../support/cli.ts';
import { MOCK_PROVIDER } from '../support/provider-entries.ts';
import { f, oidcProvider, bank, CLIENT, configFile, expectRefused, useProductionConfig } from './production-config.ts';

useProductionConfig();

describe('the baseline', () => {
  test('a sound production configuration behind named TLS terminators passes, and config check writes nothing', async () => {
    const c = configFile();
    expect(await runCli(['config', 'check', c.file])).toEqual({
      code: 0,
      stdout: `${c.file}: ok (1 clients, 1 providers)\n`,
      stderr: '',
    });
    for (const path of c.written) expect(existsSync(path)).toBe(false);
  });

  test('rediss:// with a password passes config check without connecting to it', async () => {
    const c = configFile({ store: { type: 'redis', url: 'rediss://:a-long-redis-password@redis.invalid:6380' } });
    expect(await runCli(['config', 'check', c.file])).toMatchObject({ code: 0, stderr: '' });
  });
});

describe('development-only peers', () => {
  test('a mock provider, even at onboarding stage production', async () => {
    await expectRefused(configFile({ providers: [oidcProvider(), MOCK_PROVIDER] }), [
      'providers[1].type: the mock provider lets anyone log in as its test persons; refused in production',
    ]);
  });

  test('a provider pointing at the in-process demo peers', async () => {
    await expectRefused(
      configFile({ providers: [oidcProvider(), bank({ url: 'https://gw.example.lv/demo/banks/demo-bank/' })] }),
      [
        'providers[1].url: points at the in-process demo peers under https://gw.example.lv/demo/ (development only); refused in production',
      ],
    );
    // any field of an entry, not only a bank's url: here an upstream OpenID provider's issuer
    await expectRefused(configFile({ providers: [oidcProvider({ issuer: 'https://gw.example.lv/demo/oidc-eid' })] }), [
      'providers[0].issuer: points at the in-process demo peers under https://gw.example.lv/demo/ (development only); refused in production',
    ]);
  });
});

describe('short secrets', () => {
  test('pairwise_salt', async () => {
    await expectRefused(
      configFile({ pairwise_salt: 'x', clients: [{ ...CLIENT, subject_type: 'pairwise', scopes: ['profile'] }] }),
      ['pairwise_salt: must be at least 32 characters in production'],
    );
  });

  test('a cookie key (refused by the cross-setting checks: configuration is invalid)', async () => {
    const { file } = configFile({ cookie_keys: ['short'] });
    for (const argv of [
      ['config', 'check', file],
      ['start', '--config', file],
    ]) {
      expect(await runCli(argv)).toMatchObject({
        code: 1,
        stderr: `${file}: configuration is invalid\n  cookie_keys[0]: must be at least 32 characters in production\n`,
      });
    }
  });
});

describe('agency certificates without a client CA', () => {
  const mtlsClient = {
    client_id: 'svc-mtls',
    token_endpoint_auth_method: 'tls_client_auth',
    tls_client_auth_subject_dn: 'CN=svc,O=Agency',
    redirect_uris: ['https://svc.example.lv/cb'],
  };

  test("on the gateway's own mutual-TLS listener the process's default CA store would decide", async () => {
    const server = { tls: { cert: f.server, key: f.serverKey }, mtls: { port: 8443 } };
    await expectRefused(configFile({ server, clients: [CLIENT, mtlsClient] }), [
      "server.tls.client_ca: required in production: clients[1] uses tls_client_auth, and without it any certificate of the process's default CA store would be accepted",
    ]);
  });

  test('forwarded by a TLS terminator', async () => {
    const server = { client_certificate_header: { name: 'X-Client-Cert', trusted_proxies: ['10.0.0.1'] } };
    await expectRefused(configFile({ server, clients: [CLIENT, mtlsClient] }), [
      'server.client_certificate_header.client_ca: required in production: clients[1] uses tls_client_auth, and forwarded certificates must chain to the agency CA',
    ]);
  });
});

describe("agency services' keys", () => {
  test('an http jwks_uri: anyone on the way to it could sign client assertions as the service', async () => {
    const { file } = configFile({
      clients: [
        CLIENT,
        {
          client_id: 'svc-jwt',
          token_endpoint_auth_method: 'private_key_jwt',
          jwks_uri: 'http://svc.example.lv/jwks',
          redirect_uris: ['https://svc.example.lv/cb'],
        },
      ],
    });
    for (const argv of [
      ['config', 'check', file],
      ['start', '--config', file],
    ])
      expect(await runCli(argv)).toMatchObject({
        code: 1,
        stderr: expect.stringContaining('  clients[1].jwks_uri: must be https in production\n'),
      });
  });
});

describe("adapter kinds' own production rules", () => {
  test('an http banklink url', async () => {
    await expectRefused(configFile({ providers: [oidcProvider(), bank({ url: 'http://bank.example.lv/banklink' })] }), [
      'providers[1].url: must be https in production',
    ]);
  });

  test('an http jwks_uri with private_key_jwt: refused before the client assertion key is generated', async () => {
    const metadata = {
      authorization_endpoint: 'https://eid.example.lv/auth',
      token_endpoint: 'https://eid.example.lv/token',
      jwks_uri: 'http://eid.example.lv/jwks',
    };
    await expectRefused(
      configFile({ providers: [oidcProvider({ metadata, client_auth: { method: 'private_key_jwt' } })] }),
      ['providers[0].metadata.jwks_uri: must be https in production'],
    );
  });

  test('every problem at once, in one list', async () => {
    const c = configFile({
      pairwise_salt: 'x',
      providers: [oidcProvider(), bank({ url: 'http://bank.example.lv/banklink' }), MOCK_PROVIDER],
    });
    await expectRefused(c, [
      'pairwise_salt: must be at least 32 characters in production',
      'providers[1].url: must be https in production',
      'providers[2].type: the mock provider lets anyone log in as its test persons; refused in production',
    ]);
  });
});
