// An audit directory others may change is refused before the writer reads or writes anything in it. The
// start otherwise first claims it for its checkpoint key: it writes the key's public copy into a volume every
// local user may write (left there for any of them to replace), and reads a copy already there through
// whatever was planted in its place, so the refusal names the wrong cause (another checkpoint key), or a
// FIFO there holds the start forever instead of refusing it.
import { generateKeyPairSync } from 'node:crypto';
import { chmodSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AuditUnavailableError } from '../../src/audit/events.ts';
import { PUBLIC_KEY_FILE } from '../../src/audit/format.ts';
import { testLog } from './helpers.ts';

test('an empty volume writable by every local user: refused, and nothing written into it', async () => {
  const t = testLog();
  mkdirSync(t.dir, { recursive: true });
  chmodSync(t.dir, 0o777);
  await expect(t.open()).rejects.toThrow(
    `audit log refused (audit.dir ${t.dir}): ${t.dir} is writable by every local user (mode 0777): chmod o-w`,
  );
  expect(readdirSync(t.dir)).toEqual([]);
});

test('a public key copy planted through a link in such a directory: the refusal names the link, not another key', async () => {
  const t = testLog();
  mkdirSync(t.dir, { recursive: true });
  chmodSync(t.dir, 0o777);
  const planted = join(t.root, 'planted.pem');
  writeFileSync(planted, generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }));
  symlinkSync(planted, join(t.dir, PUBLIC_KEY_FILE));
  const refused = await t.open().catch((err: Error) => err);
  expect(refused).toBeInstanceOf(AuditUnavailableError);
  expect((refused as Error).message).toContain(`${join(t.dir, PUBLIC_KEY_FILE)} is a symbolic link`);
  expect((refused as Error).message).not.toContain('another checkpoint key');
});
