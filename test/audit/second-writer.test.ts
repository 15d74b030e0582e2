// Two writers on one log, past its lock: the lock file removed while its writer runs (as the refusal's
// message tells an operator to do once that writer is gone), or taken over by a gateway in another PID
// namespace that shares the host name and the volume (its pid check cannot see the first). Both would append
// to the same segment, each numbering its entries from its own count: duplicate indices, a log that no longer
// verifies, while both acknowledge every event. Each writer checks, before it appends, that the file holds
// exactly what it wrote; the one that finds bytes it did not write fails closed, and the log stays whole.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { AuditUnavailableError } from '../../src/audit/events.ts';
import { NODE } from '../ops/processes.ts';
import { cli, HASH_KEY, testLog, type TestLog } from './helpers.ts';

const event = (n: number) => ({ type: 'provider_chosen' as const, correlationId: `corr-${n}`, clientId: 'rp' });

test('a second writer whose lock was had by mistake fails closed at its first write; the log still verifies', async () => {
  const t = testLog();
  const first = await t.open();
  await first.record(event(1));
  rmSync(join(t.dir, 'writer.lock'));
  const second = await t.open();
  await first.record(event(2)); // the first writer goes on: the file still ends where it left it
  const refused = await second.record(event(3)).catch((err: Error) => err);
  expect(refused).toBeInstanceOf(AuditUnavailableError);
  const segment = join(t.dir, readdirSync(t.dir).find((n) => n.startsWith('segment-'))!);
  expect((refused as Error).message).toContain(`${segment} holds`);
  expect((refused as Error).message).toContain('another process writes this log');
  expect(second.status()).toMatchObject({ healthy: false });
  await first.record(event(4));
  await second.close();
  await first.close();
  const verify = await cli('verify', t.dir, '--public-key', t.publicKey, '--json');
  expect(verify.json.problems).toEqual([]);
  const query = await cli('query', t.dir, '--json');
  expect(query.json.entries.map((e: { corr: string }) => e.corr)).toEqual(['corr-1', 'corr-2', 'corr-4']);
});

test('a checkpoint is not appended after checkpoints another process wrote', async () => {
  const t = testLog();
  const first = await t.open();
  await first.record(event(1));
  rmSync(join(t.dir, 'writer.lock'));
  const second = await t.open(); // signs the entry the first left unsigned: checkpoints.jsonl grows
  await second.checkpoint();
  await first.record(event(2)).catch(() => {});
  await expect(first.checkpoint()).rejects.toThrow('another process writes this log');
  await first.close();
  await second.close();
  const verify = await cli('verify', t.dir, '--public-key', t.publicKey, '--json');
  expect(verify.json.problems).toEqual([]);
});

/** A writer in a PID namespace of its own (unshare, as a container is), driven one command at a time. */
class NamespacedWriter {
  private readonly child: ChildProcess;
  private readonly lines: AsyncIterator<string>;

  constructor(t: TestLog) {
    const script = join(import.meta.dirname, 'support/line-writer.ts');
    this.child = spawn(
      'unshare',
      ['--pid', '--fork', '--mount-proc', NODE, script, t.dir, t.config.signing_key, HASH_KEY],
      {
        stdio: ['pipe', 'pipe', 'inherit'],
      },
    );
    this.lines = createInterface({ input: this.child.stdout! })[Symbol.asyncIterator]();
  }

  async next(): Promise<Record<string, unknown>> {
    const { value, done } = await this.lines.next();
    if (done) throw new Error('the writer ended');
    return JSON.parse(value) as Record<string, unknown>;
  }

  async send(command: string): Promise<Record<string, unknown>> {
    this.child.stdin!.write(`${command}\n`);
    return this.next();
  }
}

// a PID namespace of one's own needs root (CAP_SYS_ADMIN), as a tmpfs mount does
let unshareRefused = '';
try {
  execFileSync('unshare', ['--pid', '--fork', '--mount-proc', 'true'], { stdio: 'pipe' });
} catch (err) {
  unshareRefused = ` (skipped: unshare --pid refused, needs root or CAP_SYS_ADMIN: ${String((err as { stderr?: Buffer }).stderr ?? (err as Error).message).trim()})`;
}
(unshareRefused ? test.skip : test)(
  `two gateways in PID namespaces of their own under one host name: the second takes the live lock over, the first then fails closed, and the log verifies${unshareRefused}`,
  async () => {
    const t = testLog();
    const first = new NamespacedWriter(t);
    expect(await first.next()).toMatchObject({ opened: true, pid: 1 });
    expect(await first.send('write a1')).toEqual({ wrote: 'a1' });
    const second = new NamespacedWriter(t);
    // pid 1 in its namespace too: the first's lock names "its own" pid, which it does not hold
    expect(await second.next()).toMatchObject({ opened: true, pid: 1, tookOver: true });
    expect(await second.send('write b1')).toEqual({ wrote: 'b1' });
    const refused = await first.send('write a2');
    expect(refused).toMatchObject({ refused: 'a2' });
    expect(String(refused.error)).toContain('another process writes this log');
    expect(await second.send('write b2')).toEqual({ wrote: 'b2' });
    expect(await first.send('close')).toEqual({ closed: true });
    expect(await second.send('close')).toEqual({ closed: true });
    const verify = await cli('verify', t.dir, '--public-key', t.publicKey, '--json');
    expect(verify.json.problems).toEqual([]);
    const query = await cli('query', t.dir, '--event', 'provider_chosen', '--json');
    expect(query.json.entries.map((e: { corr: string }) => e.corr)).toEqual(['a1', 'b1', 'b2']);
  },
);
