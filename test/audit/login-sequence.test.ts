// A full login through the real gateway into the real file log: the expected event sequence under one
// correlation id, found again by personal code, verifiable, and with no personal data in plain text.
import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compactDecrypt } from 'jose';
import { useGateway, loginThroughMock, exchangeCode } from '../support/gateway.ts';
import { allBytes, cli, CODE, HASH_KEY, SUBJECT, testLog, type TestLog } from './helpers.ts';
import type { FileAuditLog } from '../../src/audit/log.ts';
import type { AuditLog } from '../../src/audit/events.ts';

let t: TestLog;
let log: FileAuditLog;
const auditor = generateKeyPairSync('rsa', { modulusLength: 2048 });
let tokenIssued: () => void;
const tokensIssued = { promise: new Promise<void>((resolve) => (tokenIssued = resolve)), resolve: () => tokenIssued() };

const gw = useGateway(async () => {
  const probe = testLog();
  const auditorPath = join(probe.root, 'auditor.pem');
  writeFileSync(auditorPath, auditor.publicKey.export({ type: 'spki', format: 'pem' }));
  t = testLog({ auditor_public_key: auditorPath });
  log = await t.open();
  // tokens_issued is recorded from an engine event after the token response: the test waits for that
  // record() to resolve (the entry is durable then), not for a time
  const audit: AuditLog = {
    record: async (event) => {
      await log.record(event);
      if (event.type === 'tokens_issued') tokensIssued.resolve();
    },
    close: () => log.close(),
  };
  return { audit };
});

test('a full login leaves the expected, verifiable event sequence in the file log', async () => {
  const login = await loginThroughMock(gw.rp);
  await exchangeCode(gw.rp, login, login.callback!);
  await tokensIssued.promise;
  await log.checkpoint();

  const keyFile = join(t.root, 'hash.key');
  writeFileSync(keyFile, HASH_KEY);
  const byCode = await cli('query', t.dir, '--personal-code', CODE, '--hash-key-file', keyFile, '--json');
  expect(byCode.json.count).toBeGreaterThanOrEqual(2);
  const corr = byCode.json.entries[0].corr;
  const sequence = await cli('query', t.dir, '--correlation', corr, '--json');
  expect(sequence.json.entries.map((e: { type: string }) => e.type)).toEqual([
    'authorization_request',
    'provider_chosen',
    'provider_request',
    'provider_response',
    'verification',
    'identity_released',
    'tokens_issued',
  ]);
  expect(new Set(sequence.json.entries.map((e: { client: string }) => e.client))).toEqual(new Set(['rp']));

  const released = sequence.json.entries.find((e: { type: string }) => e.type === 'identity_released');
  const { plaintext } = await compactDecrypt(released.claims, auditor.privateKey);
  expect(JSON.parse(new TextDecoder().decode(plaintext))).toMatchObject({ sub: SUBJECT });

  const verify = await cli('verify', t.dir, '--public-key', t.publicKey, '--json');
  expect(verify.json.problems).toEqual([]);
  expect(verify.code).toBe(0);

  const bytes = allBytes(t.dir).toString('utf8');
  for (const secret of [CODE, CODE.replace('-', ''), SUBJECT, 'Bērziņš']) expect(bytes).not.toContain(secret);
});

test('a login is refused when the audit log cannot be written', async () => {
  await log.close(); // from now on every record() rejects with AuditUnavailableError
  await expect(log.record({ type: 'logout' })).rejects.toThrow('audit log is closed');
  const login = await loginThroughMock(gw.rp).catch((err: Error) => err);
  // no authorization code reaches the relying party
  expect(login instanceof Error || !login.callback?.searchParams.get('code')).toBe(true);
});
