// Two instances sharing Redis read the registry as one does: each revision published by a command is
// audited once across the instances, as what it changed, however many revisions an instance missed
// between two looks; a record file claiming another record's provider changes nothing on either.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { runCli } from '../support/cli.ts';
import type { TestGateway, WatchedAuditLog } from '../support/gateway.ts';
import { record, writeRegistry } from './fixtures.ts';
import { type SharedInstances, startSharedInstances } from './shared-instances.ts';

const prefix = `vpm-joining-shared-${randomBytes(4).toString('hex')}:`;
let dir: string;
let registry: string;
let configFile: string;
let a: TestGateway;
let b: TestGateway;
let instances: SharedInstances;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vpm-joining-shared-'));
  registry = writeRegistry(join(dir, 'registry'), [
    record('mock-eid', 'production'),
    record('mock-bank', 'production'),
  ]);
  // polling rarely: the test decides when each instance looks
  instances = await startSharedInstances({ dir, registry, prefix, pollSeconds: 60 });
  ({ a, b, configFile } = instances);
});
afterAll(async () => {
  const revisions = [7, 8, 9, 10];
  await instances?.close([
    'registry:version',
    ...['mock-eid', 'mock-bank'].map((id) => `registry:record:${id}`),
    ...revisions.flatMap((r) => [`registry:record:mock-bank:${r}`, `registry:audited:mock-bank:${r}`]),
    'registry:record:mock-eid:7',
  ]);
  rmSync(dir, { recursive: true, force: true });
});

const changes = (gw: TestGateway) =>
  (gw.audit as WatchedAuditLog).events.filter((e) => e.type === 'registry_change').slice(2);
const move = (to: string, by: string, reason: string) =>
  runCli(['providers', 'transition', 'mock-bank', to, '-c', configFile, '--by', by, '--reason', reason]);

test('each published revision is audited once across instances, whichever revisions each instance saw', async () => {
  expect((await move('suspended', 'Alice', 'fraud reported')).code).toBe(0);
  await a.gateway.registry!.poll();
  expect((await move('resume', 'Bob', 'false alarm')).code).toBe(0);
  // b missed revision 8 and looks first: it records revision 8 no more than a did
  await b.gateway.registry!.poll();
  await a.gateway.registry!.poll();
  for (const gw of [a, b]) expect(gw.gateway.registry!.records.get('mock-bank')?.revision).toBe(9);
  const recorded = [...changes(a), ...changes(b)]
    .map((e) => e.detail)
    .sort((x, y) => Number(x?.revision) - Number(y?.revision));
  expect(recorded).toMatchObject([
    { revision: 8, from: 'production', stage: 'suspended', by: 'Alice', reason: 'fraud reported' },
    { revision: 9, from: 'suspended', stage: 'production', by: 'Bob', reason: 'false alarm' },
  ]);
});

test('a record file claiming a provider another record governs changes nothing on either instance', async () => {
  // a whole joining record of a bank of its own, but naming the bank another record governs
  const squatter = { ...record('squatter-bank', 'production', { adapter: 'mock-bank' }), id: 'squatter' };
  writeFileSync(join(registry, 'squatter.yaml'), stringify(squatter));
  try {
    for (const gw of [a, b]) {
      await gw.gateway.registry!.poll();
      expect(gw.gateway.registry!.records.has('squatter')).toBe(false);
      expect(gw.logLines.join('\n')).toContain('squatter.yaml: adapter: mock-bank is already governed by');
    }
  } finally {
    unlinkSync(join(registry, 'squatter.yaml'));
  }
});

test("a suspension reaches every instance while another record's file is half-edited", async () => {
  writeFileSync(join(registry, 'half-edited.yaml'), 'id: [half-edited\n');
  try {
    const moved = await move('suspended', 'Carol', 'fraud reported again');
    expect(moved.code).toBe(0);
    for (const gw of [a, b]) {
      await gw.gateway.registry!.poll();
      expect(gw.gateway.registry!.records.get('mock-bank')?.history.at(-1)).toMatchObject({
        stage: 'suspended',
        by: 'Carol',
      });
      expect(gw.logLines.join('\n')).toContain('registry files not applied');
    }
  } finally {
    unlinkSync(join(registry, 'half-edited.yaml'));
  }
});
