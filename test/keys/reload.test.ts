// A running instance reloads its key set; a reload it cannot use (a torn manifest, a missing key file, a
// set with no key that signs yet) keeps the keys in use and says so in the log: tokens keep verifying and
// logins keep working. Only what the manifest names is a token key: other `*.jwk.json` files in keys.dir
// (adapters keep their generated keys there) are never published, and the engine signs with nothing but
// the current key under its own kid.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { compactVerify, decodeProtectedHeader, importJWK, type JWK } from 'jose';
import { engineKeys, KeyNotCurrent } from '../../src/keys/engine-keys.ts';
import { generateTokenKey } from '../../src/keys/material.ts';
import { MANIFEST_FILE, tokenFile } from '../../src/keys/key-dir.ts';
import { exchangeCode, loginThroughMock, rpConfig, startGateway, type TestGateway } from '../support/gateway.ts';

let gw: TestGateway;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vpm-keys-reload-'));
  gw = await startGateway({ settings: { keys: { dir } } });
});

afterAll(async () => {
  await gw?.close();
  rmSync(dir, { recursive: true, force: true });
});

const jwksKids = async () =>
  (((await (await fetch(`${gw.issuer}/jwks`)).json()) as { keys: JWK[] }).keys.map((k) => k.kid) as string[]).sort();

async function loginKid(): Promise<string> {
  const rp = await rpConfig(gw.issuer);
  const login = await loginThroughMock(rp);
  return decodeProtectedHeader((await exchangeCode(rp, login, login.callback!)).id_token!).kid!;
}

test('the JWKS: public halves of the three token keys, as a JWK Set any origin may read', async () => {
  const res = await fetch(`${gw.issuer}/jwks`, { headers: { origin: 'https://spa.example.test' } });
  expect(res.headers.get('content-type')).toBe('application/jwk-set+json; charset=utf-8');
  expect(res.headers.get('access-control-allow-origin')).toBe('*');
  const { keys } = (await res.json()) as { keys: JWK[] };
  expect(keys.map((k) => [k.alg, k.use])).toEqual([
    ['PS256', 'sig'],
    ['ES256', 'sig'],
    ['RS256', 'sig'],
  ]);
  for (const key of keys) for (const part of ['d', 'p', 'q', 'dp', 'dq', 'qi']) expect(key).not.toHaveProperty(part);
});

test('a JWK file the manifest does not name is not a token key', async () => {
  const before = await jwksKids();
  expect(before).toHaveLength(3);
  const foreign = await generateTokenKey('PS256');
  writeFileSync(join(dir, 'oidc-upstream-signing-PS256.jwk.json'), JSON.stringify(foreign.jwk), { mode: 0o600 });
  await gw.gateway.keys.refresh();
  expect(await jwksKids()).toEqual(before);
  expect(await loginKid()).not.toBe(foreign.kid);
});

test.each([
  ['a torn manifest', (manifest: string) => writeFileSync(join(dir, MANIFEST_FILE), manifest.slice(0, 40))],
  [
    'a missing key file',
    (manifest: string) => {
      const { token } = JSON.parse(manifest) as { token: { id: string }[] };
      rmSync(join(dir, tokenFile(token[0]!.id)));
    },
  ],
  [
    'no key that signs yet',
    (manifest: string) => {
      const doc = JSON.parse(manifest) as { token: { activates: number }[]; cookie: { activates: number }[] };
      for (const e of [...doc.token, ...doc.cookie]) e.activates += 86_400;
      writeFileSync(join(dir, MANIFEST_FILE), JSON.stringify(doc));
    },
  ],
])('%s: the reload keeps the keys in use and logs why', async (_name, breakIt) => {
  const manifest = readFileSync(join(dir, MANIFEST_FILE), 'utf8');
  const files = new Map(
    (JSON.parse(manifest) as { token: { id: string }[] }).token.map((e) => [
      e.id,
      readFileSync(join(dir, tokenFile(e.id)), 'utf8'),
    ]),
  );
  const kids = await jwksKids();
  const signing = gw.gateway.keys.ring.view.signing.PS256.kid;
  const logged = gw.logLines.length;
  breakIt(manifest);
  try {
    await gw.gateway.keys.refresh();
    expect(gw.logLines.slice(logged).join('\n')).toContain('key set reload failed; keeping the keys in use');
    expect(await jwksKids()).toEqual(kids);
    expect(gw.gateway.keys.ring.view.signing.PS256.kid).toBe(signing);
    expect(await loginKid()).toBe(signing);
    expect((await gw.gateway.readiness()).checks.keys).toBe('ok');
  } finally {
    writeFileSync(join(dir, MANIFEST_FILE), manifest);
    for (const [kid, text] of files) writeFileSync(join(dir, tokenFile(kid)), text, { mode: 0o600 });
  }
  // once repaired, a reload is quiet again
  const quiet = gw.logLines.length;
  await gw.gateway.keys.refresh();
  expect(gw.logLines.slice(quiet).join('\n')).not.toContain('reload failed');
});

test('the engine signs only with the current key, and only under its own kid', async () => {
  const ring = gw.gateway.keys.ring;
  const [slot] = engineKeys(ring).keys;
  const current = ring.view.signing.PS256;
  const input = (header: Record<string, unknown>) =>
    Buffer.from(
      `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from('{"sub":"x"}').toString('base64url')}`,
    );
  const good = input({ alg: 'PS256', kid: current.kid });
  const signature = Buffer.from(await slot!.sign(good)).toString('base64url');
  const jws = `${good.toString('ascii')}.${signature}`;
  const pub = await importJWK(ring.view.published.find((k) => k.kid === current.kid)!, 'PS256');
  await expect(compactVerify(jws, pub)).resolves.toBeTruthy();
  // a kid that is not the current key's (unknown, or another algorithm's key) is refused, never signed
  for (const kid of ['some-other-kid', ring.view.signing.RS256.kid])
    expect(() => slot!.sign(input({ alg: 'PS256', kid }))).toThrow(KeyNotCurrent);
  expect(() => slot!.sign(input({ alg: 'RS256', kid: current.kid }))).toThrow(KeyNotCurrent);
});
