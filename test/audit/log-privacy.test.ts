// The file-backed writer's privacy: no personal code, name or claim in plain text (claims JWE to the
// auditor, or not stored without an auditor key), and the search by personal code or reference.
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compactDecrypt } from 'jose';
import type { StoredEntry } from '../../src/audit/format.ts';
import { hashSubject } from '../../src/audit/privacy.ts';
import { allBytes, cli, CODE, HASH_KEY, loginEvents, OTHER_SUBJECT, SUBJECT, testLog, entries } from './helpers.ts';

describe('privacy', () => {
  test('personal codes, names and claims never appear in plain text; claims are JWE to the auditor', async () => {
    const auditor = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const t = testLog();
    const auditorPath = join(t.root, 'auditor.pub.pem');
    writeFileSync(auditorPath, auditor.publicKey.export({ type: 'spki', format: 'pem' }));
    const t2 = testLog({ auditor_public_key: auditorPath });
    const log = await t2.open();
    for (const e of loginEvents(1)) await log.record(e);
    // a mistake upstream: a personal code in free-form detail is removed, not stored
    await log.record({ type: 'error', detail: { message: `lookup failed for ${CODE}` } });
    await log.record({ type: 'error', detail: { message: `lookup failed for ${SUBJECT}` } });
    await log.close();
    const bytes = allBytes(t2.dir).toString('utf8');
    for (const secret of [CODE, CODE.replace('-', ''), SUBJECT, 'Jānis', 'Bērziņš', 'J\\u0101nis'])
      expect(bytes).not.toContain(secret);
    const released = entries(t2.dir).find((e) => e.type === 'identity_released')!;
    expect(released.sub).toBe(hashSubject(HASH_KEY, SUBJECT));
    const { plaintext, protectedHeader } = await compactDecrypt(released.claims!, auditor.privateKey);
    expect(protectedHeader).toMatchObject({ alg: 'ECDH-ES+A256KW', enc: 'A256GCM' });
    expect(JSON.parse(new TextDecoder().decode(plaintext))).toMatchObject({
      sub: SUBJECT,
      given_name: 'Jānis',
      personal_code: CODE,
    });
    expect(entries(t2.dir).at(-2)!.detail).toEqual({ message: 'lookup failed for [redacted]' });
    expect(entries(t2.dir).at(-1)!.detail).toEqual({ message: 'lookup failed for [redacted]' });
    for (const line of t2.logger.lines) expect(line).not.toContain(CODE);
  });

  test('without an auditor key the claims are not stored at all', async () => {
    const t = testLog();
    const log = await t.open();
    for (const e of loginEvents(1)) await log.record(e);
    await log.close();
    expect(entries(t.dir).some((e) => e.claims !== undefined)).toBe(false);
    expect(allBytes(t.dir).toString('utf8')).not.toContain(CODE);
  });

  test("a search by personal code finds that person's login and nobody else's", async () => {
    const t = testLog();
    const log = await t.open();
    for (const e of loginEvents(1, OTHER_SUBJECT, 'rp-other')) await log.record(e);
    for (const e of loginEvents(2, SUBJECT, 'rp')) await log.record(e);
    await log.close();
    const keyFile = join(t.root, 'hash.key');
    writeFileSync(keyFile, `${HASH_KEY}\n`);
    for (const input of [CODE, CODE.replace('-', ''), SUBJECT]) {
      const { code, json } = await cli('query', t.dir, '--personal-code', input, '--hash-key-file', keyFile, '--json');
      expect(code).toBe(0);
      expect(json.entries.map((e: StoredEntry) => [e.type, e.corr, e.client])).toEqual([
        ['verification', 'corr-2', 'rp'],
        ['identity_released', 'corr-2', 'rp'],
      ]);
    }
    // `-` reads the code from standard input: the command line (ps, shell history) never holds it
    const cliPath = join(import.meta.dirname, '../../bin/vpm-gateway.js');
    const piped = execFileSync(
      process.execPath,
      [cliPath, 'audit', 'query', t.dir, '--personal-code', '-', '--hash-key-file', keyFile, '--json'],
      { encoding: 'utf8', input: `${CODE}\n` },
    );
    expect((JSON.parse(piped) as { entries: StoredEntry[] }).entries.map((e) => e.corr)).toEqual(['corr-2', 'corr-2']);
    // the login as a whole, by its correlation id
    const all = await cli('query', t.dir, '--correlation', 'corr-2', '--json');
    expect(all.json.count).toBe(7);
    // with the wrong key nothing matches
    writeFileSync(keyFile, 'another-hash-key-0123456789-0123456789');
    expect((await cli('query', t.dir, '--personal-code', CODE, '--hash-key-file', keyFile, '--json')).json.count).toBe(
      0,
    );
    // an invalid code is a clear error, not a silent empty result
    const bad = await cli('query', t.dir, '--personal-code', '010180-15098', '--hash-key-file', keyFile);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/check digit/);
  });

  test('a reference that starts with a dash is looked up as it is written on the error page', async () => {
    // correlation ids are the engine's base64url interaction ids, so one in 32 starts with "-"
    const t = testLog();
    const log = await t.open();
    const dashed = loginEvents(1).map((e) => ({ ...e, correlationId: '-LIg6--Iuz3kQw' }));
    for (const e of [...loginEvents(2), ...dashed]) await log.record(e);
    await log.close();
    for (const argv of [
      ['--correlation', '-LIg6--Iuz'],
      ['--correlation=-LIg6--Iuz'],
      ['--json', '--correlation', '-LIg6--Iuz'],
    ]) {
      const found = await cli('query', t.dir, ...argv, '--json');
      expect(found.code).toBe(0);
      expect(found.json.count).toBe(7);
      expect(new Set(found.json.entries.map((e: StoredEntry) => e.corr))).toEqual(new Set(['-LIg6--Iuz3kQw']));
    }
    // an option after a value-taking one is still that option, so a forgotten value is named
    const missing = await cli('query', t.dir, '--correlation', '--limit', '5');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^vpm-gateway audit query: Option '--correlation' argument missing\n/);
  });
});
