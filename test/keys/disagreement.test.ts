// Two running instances on one Redis whose key sets part: each has its own copy of keys.dir (the "same files
// deployed everywhere" form), and a rotation reaches one copy only. Within one reload interval that is a
// rotation on its way; once it lasts longer, the instance still on the older set answers /readyz with 503
// naming the reason, its vpm_keys_disagreement gauge is 1 and its log says so once, while the instance on
// the newer set stays ready. When the copy is brought up to date the instance is ready again. The clock
// the roster's times come from is moved with jest's Date only.
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, jest, test } from '@jest/globals';
import { runCli } from '../support/cli.ts';
import { setClock, startCluster, type Cluster, type Instance } from './cluster.ts';

const RELOAD_INTERVAL = 30;
let cluster: Cluster;
let t0: number;
/** the instance reading cluster.dir/keys, where `keys rotate` writes, and the one with its own copy */
let rotated: Instance;
let copy: Instance;
let copyDir: string;

beforeAll(async () => {
  t0 = Date.now();
  setClock(t0);
  cluster = await startCluster({ metrics: { port: 0 } });
  rotated = await cluster.start();
  copyDir = join(cluster.dir, 'keys-copy');
  cpSync(join(cluster.dir, 'keys'), copyDir, { recursive: true });
  copy = await cluster.start({ keys: { ...(cluster.raw.keys as object), dir: copyDir } });
});

afterAll(async () => {
  await cluster?.close();
  jest.useRealTimers();
});

const readyz = async (i: Instance) => {
  const res = await fetch(`${i.origin}/readyz`);
  return { status: res.status, body: (await res.json()) as { checks: Record<string, string> } };
};
const gauges = async (i: Instance) => {
  const text = await i.gateway.metrics!.scrape();
  const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);
  return { disagreement: value('vpm_keys_disagreement'), differing: value('vpm_keys_instances_differing') };
};
const logged = (i: Instance, message: string) =>
  (i.gateway.logger as unknown as { lines: string[] }).lines.filter((line) => line.includes(message));

test('both start on the same set: ready, nothing differs', async () => {
  for (const i of [rotated, copy]) {
    expect(await readyz(i)).toMatchObject({ status: 200, body: { checks: { key_set: 'ok' } } });
    expect(await gauges(i)).toEqual({ disagreement: 0, differing: 0 });
  }
});

test('a rotation that reached one copy only: counted at once, judged after a reload interval', async () => {
  // a second later, so the rotated set is newer than the first
  setClock(t0 + 1000);
  expect((await runCli(['keys', 'rotate', '--config', cluster.configFile])).code).toBe(0);
  await rotated.gateway.keys.refresh();
  await copy.gateway.keys.refresh();
  expect(rotated.gateway.keys.ring.view.digest).not.toBe(copy.gateway.keys.ring.view.digest);
  // as after any rotation, for less than a reload interval: both still ready
  expect(await readyz(copy)).toMatchObject({ status: 200, body: { checks: { key_set: 'ok' } } });
  expect(await gauges(copy)).toEqual({ disagreement: 0, differing: 1 });

  setClock(t0 + (RELOAD_INTERVAL + 2) * 1000);
  await rotated.gateway.keys.refresh();
  await copy.gateway.keys.refresh();
  expect(await readyz(copy)).toEqual({
    status: 503,
    body: {
      status: 'not ready',
      checks: {
        store: 'ok',
        keys: 'ok',
        key_set: 'a newer key set runs on as many instances',
        audit: 'ok',
        shutdown: 'ok',
      },
    },
  });
  expect(await gauges(copy)).toEqual({ disagreement: 1, differing: 1 });
  // the instance on the newer set serves on, and says the other one does not
  expect(await readyz(rotated)).toMatchObject({ status: 200, body: { checks: { key_set: 'ok' } } });
  expect(await gauges(rotated)).toEqual({ disagreement: 0, differing: 1 });
  expect(logged(rotated, 'other instances run another key set; this one stays ready')).toHaveLength(1);

  const notReady = logged(copy, 'key set disagreement: this instance is not ready');
  expect(notReady).toHaveLength(1);
  expect(JSON.parse(notReady[0]!)).toMatchObject({
    level: 'error',
    digest: copy.gateway.keys.ring.view.digest,
    others: [rotated.gateway.keys.ring.view.digest],
    reason: 'a newer key set runs on as many instances',
  });
  // once per change: further reloads of the same disagreement are quiet
  await copy.gateway.keys.refresh();
  await rotated.gateway.keys.refresh();
  expect(logged(copy, 'key set disagreement')).toHaveLength(1);
  expect(logged(rotated, 'key set disagreement')).toHaveLength(1);
  expect((await readyz(copy)).status).toBe(503);
});

test('the copy brought up to date: ready again at its next reload, and both say so once', async () => {
  cpSync(join(cluster.dir, 'keys'), copyDir, { recursive: true });
  await copy.gateway.keys.refresh();
  expect(copy.gateway.keys.ring.view.digest).toBe(rotated.gateway.keys.ring.view.digest);
  expect(await readyz(copy)).toMatchObject({ status: 200, body: { checks: { key_set: 'ok' } } });
  expect(await gauges(copy)).toEqual({ disagreement: 0, differing: 0 });
  await rotated.gateway.keys.refresh();
  expect(await gauges(rotated)).toEqual({ disagreement: 0, differing: 0 });
  for (const i of [copy, rotated]) expect(logged(i, 'key sets agree again')).toHaveLength(1);
});
