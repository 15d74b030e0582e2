// Forgery by someone who can write the audit directory but holds no entry MAC key: a forged tail entry,
// entries of another log sealed with the same key, a forged future time. Each is refused at start and by
// `audit verify --config`; the reading commands never make the key they lack (./witnessed-log.ts).
import { randomBytes } from 'node:crypto';
import { appendFileSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { entryMacKey } from '../../src/audit/config.ts';
import { EntryMac } from '../../src/audit/entry-mac.ts';
import { encodeEntryLine } from '../../src/audit/format.ts';
import { cli, configFile, loginEvents, testLog, type TestLog } from './helpers.ts';
import { writtenLog, segmentOf } from './witnessed-log.ts';

describe('a forged tail entry (correct leaf hash, no key)', () => {
  async function forged(t: TestLog, time: string, mac: EntryMac | undefined): Promise<number> {
    const lines = readFileSync(segmentOf(t), 'utf8').trimEnd().split('\n');
    const count = lines.length;
    const previous = Buffer.from((JSON.parse(lines.at(-1)!) as { leaf: string }).leaf, 'hex');
    const unsealed = `{"i":${count},"t":"${time}","type":"identity_released","code":"A150","corr":"forged","client":"rp"}`;
    const body = mac
      ? mac.seal(unsealed, previous)
      : `${unsealed.slice(0, -1)},"mac":"${randomBytes(32).toString('hex')}"}`;
    appendFileSync(segmentOf(t), encodeEntryLine(body).line);
    return count;
  }

  test('is refused at start, fails `verify --config`, and `verify --public-key` does not call it OK', async () => {
    const t = testLog({ checkpoint_every: 5 });
    await writtenLog(t);
    const index = await forged(t, new Date().toISOString(), undefined);

    await expect(t.open()).rejects.toThrow(`entry ${index} (`);
    await expect(t.open()).rejects.toThrow('entry MAC does not verify');
    const verify = await cli('verify', '--config', configFile(t));
    expect(verify.code).toBe(1);
    expect(verify.stdout).toContain(`FAILED: first bad position: entry ${index} (`);
    expect(verify.stdout).toContain('entry MAC does not verify');

    // query shows the entry, but not as genuine: with --config its MAC fails, without it nothing vouches for it
    const shown = await cli('query', '--config', configFile(t), '--correlation', 'forged');
    expect(shown.stdout).toContain('1 matching entries');
    expect(shown.stderr).toContain(`warning: the log ${t.dir} fails verification (entry ${index} (`);
    expect(shown.stderr).toContain('entry MAC does not verify');
    const bare = await cli('query', t.dir, '--correlation', 'forged');
    expect(bare.stderr).toContain(
      `warning: 1 matching entries of ${t.dir} follow its latest checkpoint: no signature covers them yet`,
    );
    expect((await cli('query', t.dir, '--correlation', 'corr-1')).stderr).toBe('');

    const pub = await cli('verify', t.dir, '--public-key', t.publicKey, '--json');
    expect(pub.json.unauthenticated).toBe(1);
    const text = await cli('verify', t.dir, '--public-key', t.publicKey);
    expect(text.stdout).not.toContain('OK: every entry');
    expect(text.stdout).toContain('NOT AUTHENTICATED: the last 1 entries are covered by no signed checkpoint');
  });

  test('the reading commands never make an entry MAC key: without it they stop, naming it, and write nothing', async () => {
    const t = testLog({ checkpoint_every: 1000 });
    await writtenLog(t);
    const keyFile = join(t.root, 'keys', 'entry-mac.key');
    rmSync(keyFile);
    for (const args of [['verify'], ['query', '--correlation', 'corr-1'], ['witness']]) {
      const run = await cli(args[0]!, '--config', configFile(t), ...args.slice(1));
      expect(run.code).toBe(2);
      expect(run.stderr).toContain(`the entry MAC key ${keyFile} is missing`);
      expect(readdirSync(join(t.root, 'keys'))).not.toContain('entry-mac.key');
    }
  });

  test("entries of another log sealed with the same key (another worker's) are refused on this log's tail", async () => {
    // two logs sharing the checkpoint and MAC keys, as the workers of one gateway do
    const one = testLog({ checkpoint_every: 1000 });
    await writtenLog(one);
    const size = readFileSync(segmentOf(one), 'utf8').trimEnd().split('\n').length;
    const two = testLog({
      name: 'worker-2',
      checkpoint_every: 1000,
      checkpoint_interval_ms: 3_600_000,
      signing_key: one.config.signing_key,
    });
    const writer = await two.open();
    for (let n = 0; n < 6; n++) for (const e of loginEvents(100 + n)) await writer.record(e);
    // the other log's entries from this log's size on: indices and times follow on from this log's
    const copied = readFileSync(segmentOf(two), 'utf8').trimEnd().split('\n').slice(size);
    appendFileSync(segmentOf(one), `${copied.join('\n')}\n`);
    await writer.close();

    await expect(one.open()).rejects.toThrow(`entry ${size} (`);
    await expect(one.open()).rejects.toThrow('copied from another log');
    const verify = await cli('verify', '--config', configFile(one));
    expect(verify.code).toBe(1);
    expect(verify.stdout).toContain(`FAILED: first bad position: entry ${size} (`);
    // the same log opens again once they are gone: its own entries still verify
    const own = readFileSync(segmentOf(one), 'utf8').trimEnd().split('\n').slice(0, size);
    writeFileSync(segmentOf(one), `${own.join('\n')}\n`);
    await (await one.open()).close();
  });

  test('a tail sealed before the chaining (the bare entry MACed) opens; after a chained entry such an entry is refused', async () => {
    const t = testLog({ checkpoint_every: 1000 });
    await (await t.open()).close(); // the keys, and a checkpoint of the empty log
    const mac = new EntryMac(entryMacKey(t.config));
    const bare = (i: number, corr: string) => {
      const unsealed = `{"i":${i},"t":"${new Date().toISOString()}","type":"identity_released","code":"A150","corr":"${corr}","client":"rp"}`;
      return encodeEntryLine(`${unsealed.slice(0, -1)},"mac":"${mac.mac(unsealed).toString('hex')}"}`).line;
    };
    // the tail an earlier version left
    const segment = join(t.dir, 'segment-000000000000.jsonl');
    appendFileSync(segment, `${bare(0, 'earlier')}${bare(1, 'earlier')}`);
    const log = await t.open();
    expect(log.status().entries).toBe(2);
    await log.record(loginEvents(1)[0]!);
    await log.close();
    // an entry sealed the earlier way (from another log of that time, indices and times fitting) after it
    appendFileSync(segment, bare(3, 'copied'));
    await expect(t.open()).rejects.toThrow('entry 3 (');
    await expect(t.open()).rejects.toThrow('sealed the way entries were before MAC chaining, after chained entries');
    expect((await cli('verify', '--config', configFile(t))).code).toBe(1);
  });

  test('a future time (even one carrying a valid MAC) is refused at start', async () => {
    const t = testLog({ checkpoint_every: 5 });
    await writtenLog(t);
    const ahead = new Date(Date.now() + 24 * 3600_000).toISOString();
    await forged(t, ahead, new EntryMac(entryMacKey(t.config)));
    await expect(t.open()).rejects.toThrow(`the log holds time ${ahead}, ahead of this host's clock`);
    const verify = await cli('verify', '--config', configFile(t));
    expect(verify.code).toBe(1);
    expect(verify.stdout).toContain('audit.max_clock_skew_ms');
  });
});
