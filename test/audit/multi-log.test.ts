// A deployment of two logs written by two writers: verify reports each, query merges them in time
// order, prove names the log; two logs sharing a checkpoint key and a store keep their witnesses apart.
import { cpSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { auditConfigSchema, openAuditLog } from '../../src/audit/config.ts';
import { memoryLogger } from '../../src/logger.ts';
import { workerAuditConfig } from '../../src/ops/worker-audit.ts';
import { MemoryStore } from '../../src/store/memory.ts';
import { cli, copyDir, HASH_KEY, loginEvents } from './helpers.ts';

/** Instance `name` of a deployment under root: its own log root/audit/<name>, the shared checkpoint key. */
function instance(root: string, name: string, named = true) {
  const config = auditConfigSchema.parse({
    dir: join(root, 'audit', name),
    signing_key: join(root, 'keys', 'checkpoint.pem'),
    subject_hash_key: HASH_KEY,
    entry_mac_key: 'entry-mac-key-shared-by-the-deployment-0123',
    checkpoint_every: 4,
    ...(named ? { name } : {}),
  });
  return { config, open: (store?: MemoryStore) => openAuditLog(config, memoryLogger(), { store }) };
}

const root = mkdtempSync(join(tmpdir(), 'vpm-audit-deploy-'));
const parent = join(root, 'audit');

beforeAll(async () => {
  const a = await instance(root, 'a').open();
  const b = await instance(root, 'b').open();
  for (let n = 0; n < 3; n++) {
    for (const e of loginEvents(n, undefined, 'rp-a')) await a.record(e);
    for (const e of loginEvents(n + 10, undefined, 'rp-b')) await b.record(e);
  }
  await a.close();
  await b.close();
});

describe('a set of logs', () => {
  test('verify checks each log of a parent directory and reports per log; one failing log fails all', async () => {
    const ok = await cli('verify', parent, '--json');
    expect(ok.code).toBe(0);
    expect(ok.json.logs.map((l: { log: string; ok: boolean }) => [l.log, l.ok])).toEqual([
      ['a', true],
      ['b', true],
    ]);
    const human = await cli('verify', join(parent, 'a'), join(parent, 'b'));
    expect(human.stdout).toMatch(/== log a\naudit log .*a: 21 entries[\s\S]*== log b\n[\s\S]*OK: all 2 logs verify/);
    const tampered = copyDir(parent);
    const segment = join(tampered, 'b', 'segment-000000000000.jsonl');
    writeFileSync(segment, readFileSync(segment, 'utf8').replace('rp-b', 'rp-x'));
    const failed = await cli('verify', tampered, '--json');
    expect(failed.code).toBe(1);
    expect(failed.json.failed).toEqual(['b']);
    expect((await cli('verify', tampered)).stdout).toContain('FAILED: 1 of 2 logs: b');
  });

  test('with --config, its own log is checked against its witnesses, the others are said not to be', async () => {
    const configFile = join(root, 'a.yaml');
    writeFileSync(configFile, stringify({ audit: { ...instance(root, 'a').config } }));
    const result = await cli('verify', parent, '--config', configFile, '--json');
    expect(result.code).toBe(0);
    expect(result.json.logs.map((l: { witness_checked: boolean }) => l.witness_checked)).toEqual([true, false]);
  });

  test('query merges the logs in time order and names the log of each entry', async () => {
    const all = await cli('query', parent, '--json');
    expect(all.json.count).toBe(42);
    const times = all.json.entries.map((e: { t: string }) => e.t);
    expect(times).toEqual([...times].sort());
    expect(new Set(all.json.entries.map((e: { log: string; client: string }) => `${e.log}:${e.client}`))).toEqual(
      new Set(['a:rp-a', 'b:rp-b']),
    );
    const logins = await cli('query', parent, '--event', 'tokens_issued');
    expect(logins.stdout.split('\n').filter((l) => l.includes('A160') || l.includes('tokens_issued'))).toHaveLength(6);
    expect(logins.stdout).toMatch(/^a #6 .*corr=corr-0 .*\nb #6 .*corr=corr-10 /m);
    expect(logins.stdout).toContain('6 matching entries in 2 logs');
  });

  test('prove needs --log among several logs, and proves in the log named', async () => {
    const unnamed = await cli('prove', parent, '--index', '3');
    expect(unnamed.code).toBe(2);
    expect(unnamed.stderr).toContain('2 logs given: name one with --log (a, b)');
    expect((await cli('prove', parent, '--index', '3', '--log', 'c')).code).toBe(2);
    const proof = await cli('prove', parent, '--log', 'b', '--index', '3', '--json');
    expect(proof.code).toBe(0);
    expect(proof.json.entry).toContain('"corr":"corr-10"');
    const file = join(root, 'proof.json');
    writeFileSync(file, proof.stdout);
    expect((await cli('verify-proof', file, '--public-key', join(root, 'keys', 'checkpoint.pem'))).code).toBe(0);
  });
});

describe('witnesses of several logs', () => {
  test('logs sharing a checkpoint key and a store keep their witnesses apart by audit.name', async () => {
    const shared = mkdtempSync(join(tmpdir(), 'vpm-audit-shared-'));
    const store = new MemoryStore();
    for (const round of [0, 1])
      for (const name of ['x', 'y']) {
        const log = await instance(shared, name).open(store);
        for (const e of loginEvents(round)) await log.record(e);
        await log.close();
      }
    const files = ['x', 'y'].map((name) => readFileSync(join(shared, 'keys', `audit-witness.${name}.json`), 'utf8'));
    expect(files[0]).not.toBe(files[1]);
    const kid = (await cli('verify', join(shared, 'audit', 'x'), '--json')).json.key;
    expect(await store.get(`audit-witness:${kid}:x`)).toBe(files[0]);
    expect(await store.get(`audit-witness:${kid}:y`)).toBe(files[1]);
  });

  test('without names, a second log on one key and store is refused at its start (fail closed)', async () => {
    const shared = mkdtempSync(join(tmpdir(), 'vpm-audit-clash-'));
    const store = new MemoryStore();
    const log = await instance(shared, 'x', false).open(store);
    for (const e of loginEvents(0)) await log.record(e);
    await log.close();
    await expect(instance(shared, 'y', false).open(store)).rejects.toThrow(
      /shorter than witness file .*audit-witness\.json.*shorter than witness store key audit-witness:/,
    );
  });
});

/** One process first, then `start --workers 2`: audit.dir's own log, the workers' logs audit.dir/worker-<n>. */
async function grownDeployment() {
  const deployment = mkdtempSync(join(tmpdir(), 'vpm-audit-grown-'));
  const own = instance(deployment, 'gw', false).config;
  for (const config of [own, workerAuditConfig(own, 1), workerAuditConfig(own, 2)]) {
    const log = await openAuditLog(config, memoryLogger());
    for (const e of loginEvents(0)) await log.record(e);
    await log.close();
  }
  const configFile = join(deployment, 'gateway.yaml');
  writeFileSync(configFile, stringify({ audit: own }));
  return { deployment, own, configFile };
}

describe('a log whose deployment then ran workers', () => {
  test("verify --config reads audit.dir's own log and its workers' below it; a worker's log deleted whole fails", async () => {
    const { deployment, own, configFile } = await grownDeployment();
    const all = await cli('verify', '--config', configFile, '--json');
    expect(all.json.logs.map((l: { log: string; ok: boolean }) => [l.log, l.ok])).toEqual([
      ['gw', true],
      ['worker-1', true],
      ['worker-2', true],
    ]);
    expect(all.code).toBe(0);
    renameSync(join(own.dir, 'worker-2'), join(deployment, 'worker-2.gone'));
    const deleted = await cli('verify', '--config', configFile);
    expect(deleted.stdout).toContain(`FAILED: its witness ${join(deployment, 'keys', 'audit-witness.worker-2.json')}`);
    expect(deleted.stdout).toContain('FAILED: 1 of 3 logs: worker-2');
    expect(deleted.code).toBe(1);
    // a search warns of it too: what the other logs hold is still listed
    const search = await cli('query', '--config', configFile, '--event', 'authorization_request');
    expect(search.code).toBe(0);
    expect(search.stdout).toContain('2 matching entries in 2 logs');
    expect(search.stderr).toBe(
      `warning: the log ${join(own.dir, 'worker-2')} fails verification: its witness ${join(deployment, 'keys', 'audit-witness.worker-2.json')} holds checkpoint 1 (size 7) but the directory holds no log; its entries cannot be searched\n`,
    );
    renameSync(join(deployment, 'worker-2.gone'), join(own.dir, 'worker-2'));
    // audit.dir's own log deleted, its workers' logs left: the directory still looks like a parent of logs
    for (const file of readdirSync(own.dir))
      if (!file.startsWith('worker-')) rmSync(join(own.dir, file), { recursive: true });
    const ownDeleted = await cli('verify', '--config', configFile);
    expect(ownDeleted.stdout).toContain(
      `FAILED: its witness ${join(deployment, 'keys', 'audit-witness.json')} holds checkpoint`,
    );
    expect(ownDeleted.stdout).toContain('FAILED: 1 of 3 logs: gw');
    expect(ownDeleted.code).toBe(1);
  });

  test("witness --config compares every worker's log with that worker's witnesses; --reset --log resets one", async () => {
    const { deployment, own, configFile } = await grownDeployment();
    const agree = await cli('witness', '--config', configFile, '--json');
    expect(agree.code).toBe(0);
    expect(agree.json.logs.map((l: { log: string; ok: boolean }) => [l.log, l.ok])).toEqual([
      ['gw', true],
      ['worker-1', true],
      ['worker-2', true],
    ]);
    // worker 2's log cut back: a log of one checkpoint in place of its three
    const witness = (n: number) => join(deployment, 'keys', `audit-witness.worker-${n}.json`);
    const cut = mkdtempSync(join(tmpdir(), 'vpm-audit-cut-'));
    const short = await openAuditLog(
      { ...workerAuditConfig(own, 2), dir: cut, witness: { store: false, path: join(cut, 'w.json') } },
      memoryLogger(),
    );
    for (const e of loginEvents(0).slice(0, 4)) await short.record(e);
    await short.close();
    rmSync(join(own.dir, 'worker-2'), { recursive: true });
    renameSync(cut, join(own.dir, 'worker-2'));
    rmSync(join(own.dir, 'worker-2', 'w.json'), { force: true });
    const differs = await cli('witness', '--config', configFile);
    expect(differs.code).toBe(1);
    expect(differs.stdout).toMatch(
      /== log worker-2\nDIFFERS: .*shorter than witness file .*audit-witness\.worker-2\.json/,
    );
    expect(differs.stdout).toContain('DIFFERS: 1 of 3 logs: worker-2');
    // a reset names its log: a plain one would also overwrite what another log's witness holds
    const unnamed = await cli('witness', '--config', configFile, '--reset');
    expect(unnamed.code).toBe(2);
    expect(unnamed.stderr).toContain('3 logs given: name one with --log (gw, worker-1, worker-2)');
    // an operator who means the shorter log resets that worker's witness alone
    const before = readFileSync(witness(1), 'utf8');
    const reset = await cli('witness', '--config', configFile, '--reset', '--log', 'worker-2');
    expect(reset.code).toBe(0);
    expect(readFileSync(witness(1), 'utf8')).toBe(before);
    expect((await cli('witness', '--config', configFile)).code).toBe(0);
    // a log that does not verify is not OK, whatever its witnesses say
    const segment = join(own.dir, 'worker-1', 'segment-000000000000.jsonl');
    const intact = readFileSync(segment);
    writeFileSync(segment, intact.toString('utf8').replace('"authorization_request"', '"authorization_requesx"'));
    const tampered = await cli('witness', '--config', configFile);
    expect(tampered.code).toBe(1);
    expect(tampered.stdout).toMatch(/== log worker-1\nFAILED: the log fails verification/);
    writeFileSync(segment, intact);
    // a log renamed aside beside them has no witnesses of this configuration: left out, and never reset
    cpSync(join(own.dir, 'worker-1'), join(own.dir, 'worker-1.old'), { recursive: true });
    const aside = await cli('witness', '--config', configFile, '--json');
    expect([aside.code, aside.json.logs.map((l: { log: string }) => l.log)]).toEqual([
      0,
      ['gw', 'worker-1', 'worker-2'],
    ]);
    const resetAside = await cli('witness', '--config', configFile, '--reset', '--log', 'worker-1.old');
    expect([resetAside.code, resetAside.stderr]).toEqual([2, expect.stringContaining('is not audit.dir or a worker')]);
    // a worker's log deleted whole: its witness still names it
    rmSync(join(own.dir, 'worker-1'), { recursive: true });
    const gone = await cli('witness', '--config', configFile);
    expect(gone.code).toBe(1);
    expect(gone.stdout).toContain(`DIFFERS: ${witness(1)} holds checkpoint`);
    expect(gone.stdout).toContain('DIFFERS: 1 of 3 logs: worker-1');
  });
});
