// One writer per log: a second writer (same process or another) is refused, a dead writer's lock is
// taken over and recorded, and close releases the lock.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { WRITER_LOCK_FILE } from '../../src/audit/format.ts';
import { cli, loginEvents, testLog } from './helpers.ts';

const lockHolder = (pid: number, host = hostname()) =>
  `${JSON.stringify({ pid, host, started: '2025-01-31T12:00:00.000Z', token: 'old' })}\n`;

describe('writer lock', () => {
  test('a second open in the same process is refused, naming the directory and the holder; close releases it', async () => {
    const t = testLog();
    const first = await t.open();
    await expect(t.open()).rejects.toThrow(
      new RegExp(`audit log ${t.dir} is being written by another writer \\(pid ${process.pid} on host `),
    );
    await first.record(loginEvents(0)[0]!);
    await first.close();
    expect(existsSync(join(t.dir, WRITER_LOCK_FILE))).toBe(false);
    const again = await t.open();
    await again.close();
  });

  test('a writer in a child process is refused while this process holds the lock', async () => {
    const t = testLog();
    const log = await t.open();
    const script = `
      import { auditConfigSchema, openAuditLog } from ${JSON.stringify(join(process.cwd(), 'src/audit/config.ts'))};
      import { memoryLogger } from ${JSON.stringify(join(process.cwd(), 'src/logger.ts'))};
      try { await openAuditLog(auditConfigSchema.parse(${JSON.stringify(t.config)}), memoryLogger()); console.log('opened'); }
      catch (err) { console.log(err.message); process.exitCode = 3; }`;
    const child = spawnSync(process.execPath, ['--no-warnings', '--input-type=module', '-e', script], {
      encoding: 'utf8',
    });
    await log.close();
    expect(child.status).toBe(3);
    expect(child.stdout).toContain(`being written by another writer (pid ${process.pid} on host ${hostname()}`);
  });

  test('the lock of a dead writer on this host is taken over and the takeover recorded in the log', async () => {
    const t = testLog();
    await (await t.open()).close();
    const dead = Number(execFileSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' }));
    writeFileSync(join(t.dir, WRITER_LOCK_FILE), lockHolder(dead));
    const log = await t.open();
    await log.close();
    const taken = await cli('query', t.dir, '--event', 'S121', '--json');
    expect(taken.json.entries).toEqual([
      expect.objectContaining({
        type: 'audit_writer_lock_taken_over',
        detail: { pid: dead, host: hostname(), started: '2025-01-31T12:00:00.000Z' },
      }),
    ]);
    expect(t.logger.lines.some((line) => line.includes('taken over'))).toBe(true);
    expect((await cli('verify', t.dir)).code).toBe(0);
  });

  test('the lock of a writer that has exited but is not yet reaped (a zombie, as workers orphaned by a killed primary are for a while) is taken over', async () => {
    const t = testLog();
    await (await t.open()).close();
    // sh starts a child that exits at once, then becomes a sleep that never reaps it
    const parent = spawn('sh', ['-c', 'sleep 0 & echo $!; exec sleep 60'], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      const [line] = (await once(parent.stdout, 'data')) as [Buffer];
      const zombie = Number(line.toString().trim());
      const state = () => {
        const stat = readFileSync(`/proc/${zombie}/stat`, 'utf8');
        return stat.charAt(stat.lastIndexOf(')') + 2);
      };
      while (state() !== 'Z') await new Promise((resolve) => setTimeout(resolve, 10));
      writeFileSync(join(t.dir, WRITER_LOCK_FILE), lockHolder(zombie));
      const log = await t.open();
      await log.close();
      const taken = await cli('query', t.dir, '--event', 'S121', '--json');
      expect(taken.json.entries).toEqual([
        expect.objectContaining({ detail: expect.objectContaining({ pid: zombie }) }),
      ]);
    } finally {
      parent.kill();
    }
  });

  test("a lock naming this very pid that this process does not hold is a previous run's (a container restarts its gateway as pid 1): taken over", async () => {
    const t = testLog();
    await (await t.open()).close();
    writeFileSync(join(t.dir, WRITER_LOCK_FILE), lockHolder(process.pid));
    const log = await t.open();
    await log.close();
    expect((await cli('query', t.dir, '--event', 'S121', '--json')).json.count).toBe(1);
  });

  test('a lock of another host is never taken over', async () => {
    const t = testLog();
    await (await t.open()).close();
    writeFileSync(join(t.dir, WRITER_LOCK_FILE), lockHolder(1, 'elsewhere.example'));
    await expect(t.open()).rejects.toThrow(/pid 1 on host elsewhere.example .* never taken over/);
  });
});
