// `vpm-gateway providers probe` on what a provider publishes: a strong OP's documents stored with the
// report, an RSA-1024 key failing it; and a bank's configured certificate and hash, legacy SHA-1 accepted
// and said so, RSA-1024 failing, SHA-1 without legacy refused before any probe (./published-fixture.ts).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { runCli } from '../support/cli.ts';
import { productionOidcEntry } from '../support/provider-entries.ts';
import { record, writeRegistry } from './fixtures.ts';
import { createCa } from '../../src/tls/pki.ts';
import { fixture, usePublishers, publisher, rsaJwk, ecJwk, opDocuments } from './published-fixture.ts';

usePublishers();

describe('vpm-gateway providers probe', () => {
  async function probeCli(issuer: string) {
    const { onboarding: _, ...entry } = productionOidcEntry(fixture.tlsFiles, { id: 'eid-x', issuer });
    const registry = writeRegistry(join(fixture.dir, `registry-${new URL(issuer).port}`), [
      record('eid-x', 'development'),
    ]);
    const config = join(fixture.dir, `gateway-${new URL(issuer).port}.yaml`);
    const audit = { dir: join(fixture.dir, 'audit'), signing_key: join(fixture.dir, 'keys/checkpoint.pem') };
    writeFileSync(
      config,
      stringify({ issuer: 'http://127.0.0.1:1', providers: [entry], registry: { dir: registry }, audit }),
    );
    const human = await runCli(['providers', 'probe', 'eid-x', '-c', config]);
    const stored = parse(readFileSync(join(registry, 'eid-x.yaml'), 'utf8'));
    return { human, stored };
  }

  test('a strong OP passes and its published documents are stored with the report', async () => {
    const { human, stored } = await probeCli(
      await publisher(opDocuments([rsaJwk(2048, 'good'), ecJwk('P-384', 'ec')])),
    );
    expect(human.stdout).toMatch(/ok {3}published {5}openid-configuration https:\/\/.*: strong/);
    expect(human.code).toBe(0);
    expect(stored.probe.ok).toBe(true);
    expect(stored.probe.report.published.documents.map((d: { kind: string }) => d.kind)).toEqual([
      'openid-configuration',
      'jwks',
    ]);
  });

  test('an RSA-1024 key in the JWKS fails the probe, and testing stays closed', async () => {
    const { human, stored } = await probeCli(await publisher(opDocuments([rsaJwk(1024, 'old')])));
    expect(human.code).toBe(1);
    expect(human.stdout).toMatch(/FAIL published {5}jwks https:\/\/.*\/jwks: key old is RSA of 1024 bits/);
    expect(stored.probe).toMatchObject({ ok: false, report: { published: { ok: false } } });
    // every other level holds: the published keys alone decide
    expect(stored.probe.report.endpoints.every((e: { ok: boolean }) => e.ok)).toBe(true);
  });
});

describe('a banklink bank: what it sends is signed with its configured certificate and hash', () => {
  async function probeBank(name: string, bank: object) {
    const url = `${await publisher(() => ({ '/': { type: 'text/html', body: 'bank' } }))}/`;
    const gateway = await createCa({ commonName: 'gateway', key: { type: 'rsa', bits: 2048 } });
    const files = { key: join(fixture.dir, `${name}-gateway.key`), cert: join(fixture.dir, `${name}-bank.pem`) };
    writeFileSync(files.key, gateway.key);
    const entry = {
      id: name,
      type: 'banklink',
      name: { lv: 'Banka', en: 'Bank' },
      kind: 'bank',
      loa: 'high',
      url,
      sender_id: 'VPM',
      receiver_id: 'BANK',
      private_key: files.key,
      bank_certificate: files.cert,
      tls: { ca: fixture.tlsFiles.ca },
      ...bank,
    };
    const registry = writeRegistry(join(fixture.dir, `registry-${name}`), [record(name, 'development')]);
    const config = join(fixture.dir, `gateway-${name}.yaml`);
    const audit = { dir: join(fixture.dir, 'audit'), signing_key: join(fixture.dir, 'keys/checkpoint.pem') };
    writeFileSync(
      config,
      stringify({ issuer: 'http://127.0.0.1:1', providers: [entry], registry: { dir: registry }, audit }),
    );
    return { config, files };
  }

  test('a legacy VK_VERSION 008 bank signs with SHA-1: accepted as production accepts it, and said so', async () => {
    const { config, files } = await probeBank('legacy-bank', { version: '008', legacy: true });
    writeFileSync(files.cert, (await createCa({ commonName: 'bank', key: { type: 'rsa', bits: 2048 } })).cert);
    const r = await runCli(['providers', 'probe', 'legacy-bank', '-c', config, '--json']);
    const report = JSON.parse(r.stdout);
    expect(report.material).toEqual({
      ok: true,
      problems: [],
      notes: [
        expect.stringContaining('SHA-1 is a weak algorithm, accepted only because this provider is marked legacy'),
      ],
    });
    expect(report.published.documents).toEqual([]);
    expect(r.code).toBe(0);
  });

  test('an RSA-1024 bank certificate fails, legacy or not', async () => {
    const { config, files } = await probeBank('old-bank', { version: '008', legacy: true });
    writeFileSync(files.cert, (await createCa({ commonName: 'bank', key: { type: 'rsa', bits: 1024 } })).cert);
    const r = await runCli(['providers', 'probe', 'old-bank', '-c', config]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/FAIL material +bank_certificate: RSA key of certificate CN=bank of 1024 bits/);
  });

  test('SHA-1 without legacy: true is refused before any probe', async () => {
    const { config, files } = await probeBank('sha1-bank', { hash: 'sha1' });
    writeFileSync(files.cert, (await createCa({ commonName: 'bank', key: { type: 'rsa', bits: 2048 } })).cert);
    const r = await runCli(['providers', 'probe', 'sha1-bank', '-c', config]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('only accepted for a bank marked legacy: true');
  });
});
