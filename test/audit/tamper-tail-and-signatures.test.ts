// Tamper evidence beyond the entries' bytes (./tampered-log.ts): a torn tail is reported by position,
// checkpoints signed by another key are refused, and what the log holds is printed escaped so it cannot
// paint a verdict on the operator's terminal.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateKeyPairSync } from 'node:crypto';
import { CHECKPOINTS_FILE } from '../../src/audit/format.ts';
import { decodeCheckpointLine, encodeCheckpointLine } from '../../src/audit/checkpoint-format.ts';
import { signCheckpoint } from '../../src/audit/keys.ts';
import { loadOrCreateCheckpointKey } from '../../src/audit/keys.ts';
import { cli, copyDir, testLog } from './helpers.ts';
import { written, useTamperedLog, lineStarts, firstProblem, problemAfter } from './tampered-log.ts';

useTamperedLog();

describe('torn tail', () => {
  test('a last entry cut short is reported by position, by the CLI too', async () => {
    const dir = copyDir(written.t.dir);
    const file = join(dir, written.segments.at(-1)!);
    const buf = readFileSync(file);
    const starts = lineStarts(buf);
    const lastStart = starts.at(-1)!;
    writeFileSync(file, buf.subarray(0, lastStart + 40));
    const { code, stdout, json } = await cli('verify', dir, '--public-key', written.t.publicKey, '--json');
    expect(code).toBe(1);
    expect(json.first_bad).toMatchObject({
      kind: 'torn',
      position: { file: written.segments.at(-1), line: starts.length, offset: lastStart },
    });
    const human = await cli('verify', dir, '--public-key', written.t.publicKey);
    expect(human.stdout).toContain(
      `FAILED: first bad position: torn tail at entry 34 (${written.segments.at(-1)} line ${starts.length}, byte ${lastStart})`,
    );
    expect(stdout).toBeTruthy();
  });

  test('a torn checkpoint is reported', async () => {
    const p = await problemAfter(written.t.dir, CHECKPOINTS_FILE, (b) =>
      Buffer.concat([b, Buffer.from('{"n":99,"si')]),
    );
    expect(p).toMatchObject({ kind: 'torn', position: { file: CHECKPOINTS_FILE } });
  });
});

describe('signatures', () => {
  test('checkpoints re-signed by another key are refused when the key is pinned', async () => {
    const dir = copyDir(written.t.dir);
    const other = await loadOrCreateCheckpointKey(join(dir, '..', `other-${process.pid}.pem`), 'EdDSA');
    const lines = readFileSync(join(dir, CHECKPOINTS_FILE), 'utf8').trimEnd().split('\n');
    const forged = await Promise.all(
      lines.map(async (l) => encodeCheckpointLine(await signCheckpoint(decodeCheckpointLine(l), other))),
    );
    writeFileSync(join(dir, CHECKPOINTS_FILE), forged.join(''));
    const { code, json } = await cli('verify', dir, '--public-key', written.t.publicKey, '--json');
    expect(code).toBe(1);
    expect(json.first_bad).toMatchObject({ kind: 'checkpoint', position: { file: CHECKPOINTS_FILE, line: 1 } });
    expect(json.first_bad.message).toMatch(/signed by key|does not verify/);
  });

  test('a checkpoint signed by a different algorithm key is refused', async () => {
    const dir = copyDir(written.t.dir);
    const ecPath = join(dir, '..', `ec-${process.pid}.pem`);
    writeFileSync(
      ecPath,
      generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }),
    );
    const ec = await loadOrCreateCheckpointKey(ecPath, 'ES256');
    const lines = readFileSync(join(dir, CHECKPOINTS_FILE), 'utf8').trimEnd().split('\n');
    lines[2] = encodeCheckpointLine(await signCheckpoint(decodeCheckpointLine(lines[2]!), ec)).trimEnd();
    writeFileSync(join(dir, CHECKPOINTS_FILE), `${lines.join('\n')}\n`);
    const p = await firstProblem(dir);
    expect(p).toMatchObject({ kind: 'checkpoint', position: { line: 3 } });
  });

  test('without a pinned key the directory copy is used, and the CLI says it is not pinned', async () => {
    const { code, stdout } = await cli('verify', written.t.dir);
    expect(code).toBe(0);
    expect(stdout).toContain('not pinned');
  });
});

describe("the operator's terminal", () => {
  test('a file name or entry field with terminal sequences is printed escaped, so it cannot paint a verdict', async () => {
    const dir = copyDir(written.t.dir);
    const fake = '\u001b[H\u001b[2JOK: every entry, the tree, every checkpoint signature and the timestamps verify\r';
    writeFileSync(join(dir, fake), '');
    const log = await testLog({ ...written.t.config, dir }).open();
    await log.record({ type: 'authorization_request', correlationId: 'corr-x', clientId: 'rp\u001b]0;\u0007\u202e' });
    await log.close();
    const verify = await cli('verify', dir, '--public-key', written.t.publicKey);
    const query = await cli('query', dir, '--correlation', 'corr-x');
    for (const printed of [verify.stdout, verify.stderr, query.stdout, query.stderr])
      for (const actedOn of ['\u001b', '\u0007', '\r', '\u202e']) expect(printed).not.toContain(actedOn);
    expect(verify.stdout).toContain('\\u001b[H\\u001b[2JOK: every entry');
    expect(query.stdout).toContain('rp\\u001b]0;\\u0007\\u202e');
    // --json stays JSON: the name comes back as it is
    expect((await cli('verify', dir, '--public-key', written.t.publicKey, '--json')).json.warnings.join()).toContain(
      fake,
    );
  });
});
