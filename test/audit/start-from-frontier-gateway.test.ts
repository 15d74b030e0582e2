// The whole gateway on a log whose older segment was altered: it starts (the start reads only the latest
// segment) and serves, and once the pass over the older segments finds the alteration the log fails closed as a
// failed write does: /readyz 503 naming the audit check, and a token request for a code issued before gets the
// OAuth error temporarily_unavailable (503), never tokens. The code comes from a second gateway on the same store
// and keys with a sound log, so the login is complete before the failing pass ends, whenever that is.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MemoryStore } from '../../src/store/memory.ts';
import { loginThroughMock, redeemCode, rpConfig, startGateway } from '../support/gateway.ts';
import { cli } from './helpers.ts';
import { segmentedLog, segmentsOf } from './support/segmented-log.ts';

test('an older segment altered: the gateway serves, then the pass after the start fails it closed', async () => {
  const store = new MemoryStore();
  const sound = await startGateway({ store });
  const t = await segmentedLog();
  const file = segmentsOf(t.dir)[1]!;
  const path = join(t.dir, file);
  writeFileSync(path, readFileSync(path, 'utf8').replace('"type":"provider_chosen"', '"type":"provider_chosez"'));
  const log = await t.open();
  const gw = await startGateway({ store, audit: log });
  try {
    const login = await loginThroughMock(await rpConfig(sound.issuer));
    await log.background!.done;

    const ready = await fetch(`${gw.issuer}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ status: 'not ready', checks: { audit: 'unavailable' } });

    const answer = await redeemCode(gw.issuer, login, login.callback!);
    expect(answer.status).toBe(503);
    const body = (await answer.json()) as Record<string, unknown>;
    expect(body.error).toBe('temporarily_unavailable');
    expect(Object.keys(body).filter((k) => k.endsWith('_token'))).toEqual([]);

    const errors = t.logger.lines.map((l) => JSON.parse(l)).filter((l) => l.level === 'error');
    expect(errors[0]).toMatchObject({
      msg: 'audit log fails verification of its older segments; refusing further events until restart',
      file,
    });
  } finally {
    await gw.close();
    await log.close();
    await sound.close();
    await store.close();
  }
  const verify = await cli('verify', t.dir, '--public-key', t.publicKey, '--json');
  expect(verify.code).toBe(1);
  expect(verify.json.problems[0].position.file).toBe(file);
});
