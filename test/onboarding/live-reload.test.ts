// A running gateway reads its registry again on every change and checks it as start does: a record file
// claiming another record's provider changes nothing (named in the log, nothing audited), a record file
// removed takes its provider off (logged and audited), a file edited without a new revision is named and
// not applied, and two stage moves between two looks are two audit events, each with its own author.
import { mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as oidc from 'openid-client';
import { parse, stringify } from 'yaml';
import { auditConfigSchema, openAuditLog } from '../../src/audit/config.ts';
import { memoryLogger } from '../../src/logger.ts';
import { runCli } from '../support/cli.ts';
import { atRp, beginLogin, rpConfig, startGateway, type TestGateway, WatchedAuditLog } from '../support/gateway.ts';
import { record, REGISTRY_PROVIDERS, writeRegistry } from './fixtures.ts';

async function offered(config: oidc.Configuration): Promise<string[]> {
  const started = await beginLogin(config);
  const page = await started.browser.follow(started.hop, (h) => h.status === 200 || atRp(h));
  expect(page.status).toBe(200);
  return ['mock-eid', 'mock-bank'].filter((id) => page.body.includes(`"${id}"`));
}

const changes = (gw: TestGateway) =>
  (gw.audit as WatchedAuditLog).events.filter((e) => e.type === 'registry_change').slice(2);
const logged = (gw: TestGateway, message: string) =>
  gw.logLines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((l) => l.msg === message);

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'vpm-joining-reload-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A gateway on its own registry, polling rarely: each test looks when it has made its changes. */
async function running(name: string, records: ReturnType<typeof record>[]) {
  const registry = writeRegistry(join(dir, name), records);
  const settings = {
    registry: { dir: registry, poll_seconds: 60 },
    audit: { dir: join(dir, `${name}-audit`), signing_key: join(dir, `${name}-keys/checkpoint.pem`) },
  };
  const gw = await startGateway({ providers: REGISTRY_PROVIDERS, audit: new WatchedAuditLog(), settings });
  // the operator's commands use the same configuration; the running gateway holds its audit log
  const config = join(dir, `${name}.yaml`);
  writeFileSync(config, stringify({ issuer: gw.issuer, providers: REGISTRY_PROVIDERS, ...settings }));
  const held = await openAuditLog(auditConfigSchema.parse(settings.audit), memoryLogger());
  const look = () => gw.gateway.registry!.poll();
  const close = async () => {
    await held.close();
    await gw.close();
  };
  return { gw, registry, config, look, close, rp: await rpConfig(gw.issuer) };
}

test('a record file claiming a provider another record governs changes nothing; removed, the real record decides', async () => {
  const { gw, registry, config, look, close, rp } = await running('squatter', [
    record('mock-eid', 'production'),
    record('mock-bank', 'application'),
  ]);
  try {
    expect(await offered(rp)).toEqual(['mock-eid']);
    // a whole joining record of a bank of its own, but naming the bank another record governs
    const squatter = { ...record('squatter-bank', 'production', { adapter: 'mock-bank' }), id: 'squatter' };
    writeFileSync(join(registry, 'squatter.yaml'), stringify(squatter));
    await look();
    expect(await offered(rp)).toEqual(['mock-eid']);
    expect(logged(gw, 'registry change not applied').at(-1)).toMatchObject({
      level: 'error',
      problems: [`${registry}/squatter.yaml: adapter: mock-bank is already governed by ${registry}/mock-bank.yaml`],
    });
    expect(changes(gw)).toEqual([]);

    unlinkSync(join(registry, 'squatter.yaml'));
    await look();
    const refusal = ['--reason', 'a squatter was found', '--refusal-other', 'not the applicant'];
    expect((await runCli(['providers', 'transition', 'mock-bank', 'refused', '-c', config, ...refusal])).code).toBe(0);
    await look();
    expect(await offered(rp)).toEqual(['mock-eid']);
    expect(changes(gw).map((e) => [e.providerId, e.detail?.from, e.detail?.stage])).toEqual([
      ['mock-bank', 'application', 'refused'],
    ]);
  } finally {
    await close();
  }
});

test('a removed record takes its provider off, logged and audited; an edit without a new revision is named, not applied', async () => {
  const { gw, registry, look, close, rp } = await running('removed', [
    record('mock-eid', 'production'),
    record('mock-bank', 'production'),
  ]);
  try {
    expect(await offered(rp)).toEqual(['mock-eid', 'mock-bank']);
    unlinkSync(join(registry, 'mock-eid.yaml'));
    const path = join(registry, 'mock-bank.yaml');
    const bank = parse(readFileSync(path, 'utf8'));
    bank.name = 'Renamed by hand';
    writeFileSync(path, stringify(bank));
    await look();
    expect(await offered(rp)).toEqual(['mock-bank']);
    expect(gw.gateway.registry!.records.get('mock-bank')?.name).toBe('Provider mock-bank');
    expect(logged(gw, 'registry change not applied').at(-1)).toMatchObject({
      level: 'warn',
      problems: [`${path}: edited without a new revision: not applied`],
    });
    const removal = { record: 'mock-eid', revision: 7, from: 'production', removed: `${registry}/mock-eid.yaml` };
    expect(logged(gw, 'registry record removed: its provider is offered to nobody')).toMatchObject([removal]);
    expect(changes(gw)).toMatchObject([{ type: 'registry_change', providerId: 'mock-eid', detail: removal }]);
  } finally {
    await close();
  }
});

test('two stage moves between two looks are audited as two changes, each with its own author, reason and stages', async () => {
  const { gw, config, look, close, rp } = await running('moves', [
    record('mock-eid', 'production'),
    record('mock-bank', 'production'),
  ]);
  try {
    const move = (to: string, by: string, reason: string) =>
      runCli(['providers', 'transition', 'mock-bank', to, '-c', config, '--by', by, '--reason', reason]);
    expect((await move('suspended', 'Alice', 'fraud reported')).code).toBe(0);
    expect((await move('resume', 'Bob', 'false alarm')).code).toBe(0);
    await look();
    expect(await offered(rp)).toEqual(['mock-eid', 'mock-bank']);
    expect(changes(gw).map((e) => e.detail)).toMatchObject([
      { record: 'mock-bank', from: 'production', stage: 'suspended', by: 'Alice', reason: 'fraud reported' },
      { record: 'mock-bank', from: 'suspended', stage: 'production', by: 'Bob', reason: 'false alarm' },
    ]);
  } finally {
    await close();
  }
});
