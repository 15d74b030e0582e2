// Clients the engine would refuse on their first request are refused before the gateway runs: by `config
// check` and `start` alike, each naming its clients[i] path and the engine's reason, and nothing else
// changes for a valid client.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { configFindings } from '../../src/config/check.ts';
import { parseConfig } from '../../src/config/load.ts';
import { ADAPTER_FACTORIES } from '../../src/registry/adapters.ts';
import { runCli } from '../support/cli.ts';
import { MOCK_PROVIDER, startGateway } from '../support/gateway.ts';

const secret = 's'.repeat(40);
const valid = { client_id: 'svc', client_secret: secret, redirect_uris: ['https://svc.example.lv/cb'] };
const ed = generateKeyPairSync('ed25519');

/** Each client the engine refuses, with what the operator is told. */
const REFUSED: [string, Record<string, unknown>, RegExp][] = [
  [
    'a post-logout URI with a fragment',
    { post_logout_redirect_uris: ['https://svc.example.lv/out#frag'] },
    /post_logout_redirect_uris must not contain fragments/,
  ],
  [
    'a private key in jwks',
    { token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [ed.privateKey.export({ format: 'jwk' })] } },
    /JSON Web Key Set is invalid: jwks\.keys\[0\]\.d must not be provided/,
  ],
  [
    'a symmetric key in jwks',
    { token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [{ kty: 'oct', k: 'AAAA' }] } },
    /must not contain symmetric keys/,
  ],
  [
    'both jwks and jwks_uri',
    {
      token_endpoint_auth_method: 'private_key_jwt',
      jwks: { keys: [ed.publicKey.export({ format: 'jwk' })] },
      jwks_uri: 'https://svc.example.lv/jwks',
    },
    /jwks and jwks_uri must not be used at the same time/,
  ],
  [
    'tls_client_auth without any way for a client certificate to arrive',
    { token_endpoint_auth_method: 'tls_client_auth', tls_client_auth_subject_dn: 'CN=svc' },
    /token_endpoint_auth_method must be .*\(tls_client_auth and self_signed_tls_client_auth need server\.tls/,
  ],
  [
    'a pairwise client on two hosts (two sectors)',
    {
      subject_type: 'pairwise',
      scopes: ['profile'],
      redirect_uris: ['https://svc.example.lv/cb', 'https://www.svc.example.lv/cb'],
    },
    /a pairwise client needs its redirect_uris on one host/,
  ],
];

const configWith = (client: Record<string, unknown>) => ({
  issuer: 'https://vpm.example.lv',
  pairwise_salt: 'p'.repeat(32),
  clients: [
    valid,
    { client_id: 'odd', client_secret: secret, redirect_uris: ['https://odd.example.lv/cb'], ...client },
  ],
  providers: [MOCK_PROVIDER],
});

const findings = (doc: unknown) =>
  configFindings(parseConfig(stringify(doc), 'x.yaml', { factories: ADAPTER_FACTORIES, env: {} }));

test.each(REFUSED)('%s: refused naming clients[1] and the reason', async (_name, client, reason) => {
  const { errors } = await findings(configWith(client));
  expect(errors).toEqual([expect.stringMatching(/^clients\[1\]: /)]);
  expect(errors[0]).toMatch(reason);
});

test('valid clients of every kind pass: secrets, a public key set, pairwise on one host, each signing algorithm', async () => {
  const clients = [
    { token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [ed.publicKey.export({ format: 'jwk' })] } },
    {
      subject_type: 'pairwise',
      scopes: ['profile'],
      redirect_uris: ['https://odd.example.lv/a', 'https://odd.example.lv/b'],
    },
    { id_token_signed_response_alg: 'ES256', post_logout_redirect_uris: ['https://odd.example.lv/bye'] },
    { id_token_signed_response_alg: 'RS256', token_endpoint_auth_method: 'client_secret_post' },
  ];
  for (const client of clients) expect((await findings(configWith(client))).errors).toEqual([]);
});

test('`config check` and `start` refuse such a client before anything runs', async () => {
  const doc = configWith(REFUSED[0]![1]);
  const dir = mkdtempSync(join(tmpdir(), 'client-check-'));
  const file = join(dir, 'gateway.yaml');
  writeFileSync(file, stringify(doc));
  const checked = await runCli(['config', 'check', '--config', file]);
  expect(checked.code).toBe(1);
  expect(checked.stderr).toContain('clients[1]: post_logout_redirect_uris must not contain fragments');
  await expect(
    startGateway({ clients: [{ ...doc.clients[1], post_logout_redirect_uris: ['https://odd.example.lv/out#f'] }] }),
  ).rejects.toThrow(/clients\[1\]: post_logout_redirect_uris must not contain fragments/);
});
