// A repair that did not finish (a crash after it copied the torn bytes to torn/, before it cut the file),
// or a tail torn again at the same offset (the repair's own record cut short by a full disk): the copy's
// name is taken. The next repair keeps that copy (torn tails are never deleted), puts the new one beside it,
// and completes; it had failed with EEXIST at every start and every `audit repair`.
import { appendFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, configFile, loginEvents, testLog } from './helpers.ts';

test('a torn tail whose torn/ copy is already there is repaired, both copies kept', async () => {
  const t = testLog();
  const log = await t.open();
  for (const e of loginEvents(1)) await log.record(e);
  await log.close();
  const name = readdirSync(t.dir).find((n) => n.startsWith('segment-'))!;
  const offset = readFileSync(join(t.dir, name)).length;
  appendFileSync(join(t.dir, name), '{"leaf":"abc');
  mkdirSync(join(t.dir, 'torn'));
  const earlier = join(t.dir, 'torn', `${name}.${offset}.torn`);
  writeFileSync(earlier, '{"leaf":"abc', { mode: 0o600 });

  const config = configFile(t);
  const repair = await cli('repair', '--config', config, '--json');
  expect(repair.code).toBe(0);
  const movedTo = repair.json.repaired[0].moved_to as string;
  expect(movedTo).not.toBe(`torn/${name}.${offset}.torn`);
  expect(readFileSync(join(t.dir, movedTo), 'utf8')).toBe('{"leaf":"abc');
  expect(readFileSync(earlier, 'utf8')).toBe('{"leaf":"abc');
  const recorded = await cli('query', t.dir, '--event', 'audit_log_repaired', '--json');
  expect(recorded.json.entries.map((e: { detail: { moved_to: string } }) => e.detail.moved_to)).toEqual([movedTo]);
  const verify = await cli('verify', t.dir, '--config', config, '--json');
  expect(verify.json.problems).toEqual([]);
});
