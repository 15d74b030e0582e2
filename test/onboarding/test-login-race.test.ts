// A refusal made while `providers test-login` waits for the operator stays: the test login's report is
// stored beside it, on the record as the file holds it when the login ends, not over it.
import { once } from 'node:events';
import { Browser } from '../support/browser.ts';
import { runCli } from '../support/cli.ts';
import { mockProviderLogin } from '../support/gateway.ts';
import { runTestLogin, startTestLoginGateway, type TestLoginGateway } from './test-login-harness.ts';

let t: TestLoginGateway;
beforeAll(async () => {
  // the gateway looks at the registry every second: the refusal reaches it while the operator is at the bank
  t = await startTestLoginGateway('race', { poll_seconds: 1 });
});
afterAll(() => t.close());

test('a refusal made while the operator logs in is kept; the report is stored beside it and exit is 1', async () => {
  let refusedRevision = 0;
  const result = await runTestLogin(t.config, async (url) => {
    const browser = new Browser();
    const atBank = await browser.follow(await browser.get(url), (h) => !!h.location?.includes('/providers/mock-bank/'));
    // while the operator is at the bank, a colleague refuses the provider and the gateway applies it
    const applied = once(t.gw.gateway.registry!, 'applied');
    const refusal = await runCli([
      'providers',
      'transition',
      'mock-bank',
      'refused',
      '-c',
      t.config,
      '--reason',
      'licence withdrawn by Latvijas Banka',
      '--refusal-reason',
      'not_licensed',
    ]);
    expect(refusal.code).toBe(0);
    refusedRevision = t.stored().revision;
    await applied;
    // the refused provider's answer ends in an error page; its way back completes the login as refused
    const end = await browser.follow(
      await mockProviderLogin(browser, atBank, 0),
      (h) => h.url.includes('/test-login') || h.status === 200,
    );
    if (!end.url.includes('/test-login')) {
      const back = /href="(\/interaction\/[^"]+\/complete)"/.exec(end.body)![1]!;
      await browser.follow(await browser.get(new URL(back, end.url).toString()), (h) => h.url.includes('/test-login'));
    }
  });
  const after = t.stored();
  expect(after.history.at(-1)).toMatchObject({ stage: 'refused', refusal_reasons: ['not_licensed'] });
  expect(after.revision).toBe(refusedRevision + 1);
  expect(after.test_login.at).toBe(JSON.parse(result.stdout).at);
  expect(result.code).toBe(1);
  expect(result.stderr).toContain('mock-bank: moved to refused while the test login ran');
  const list = await runCli(['providers', 'list', '-c', t.config, '--json']);
  expect(JSON.parse(list.stdout).providers).toContainEqual(
    expect.objectContaining({ id: 'mock-bank', stage: 'refused', offered_to: 'none' }),
  );
});
