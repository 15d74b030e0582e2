// The free-space floor on a real, small filesystem (a 4 MiB tmpfs; mounting needs root): the log refuses
// events and readiness says not ready before the volume is full, the log stays verifiable, and events
// are accepted again once space is freed.
import { mkdirSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AuditUnavailableError } from '../../src/audit/events.ts';
import { startGateway } from '../support/gateway.ts';
import { cli, testLog } from './helpers.ts';
import { useTmpfs } from './support/tmpfs.ts';

const volume = useTmpfs('4m');
const { mountPoint } = volume;

const floor = 2 * 1024 * 1024;
volume.test(
  `below audit.min_free_bytes events are refused and /readyz is not ready (/healthz stays alive), before the volume is full${volume.skipped}`,
  async () => {
    const t = testLog({ dir: join(mountPoint, 'log'), min_free_bytes: floor, checkpoint_every: 1_000_000 });
    const log = await t.open();
    const gw = await startGateway({ audit: log });
    try {
      expect((await fetch(`${gw.issuer}/readyz`)).status).toBe(200);
      const ballast = join(mountPoint, 'ballast');
      writeFileSync(ballast, Buffer.alloc(1024 * 1024)); // another writer on the volume, freed later
      let refused: unknown;
      let written = 0;
      for (let i = 0; i < 10_000 && !refused; i++) {
        await log.record({ type: 'provider_chosen', correlationId: `c-${i}`, detail: { pad: 'x'.repeat(900) } }).then(
          () => written++,
          (err: unknown) => (refused = err),
        );
      }
      expect(written).toBeGreaterThan(100);
      expect(refused).toBeInstanceOf(AuditUnavailableError);
      expect((refused as Error).message).toMatch(/bytes free, at or below audit.min_free_bytes \(2097152\)/);
      const free = () => {
        const s = statfsSync(mountPoint);
        return s.bavail * s.bsize;
      };
      expect(free()).toBeGreaterThan(floor - 64 * 1024); // stopped at the floor, nowhere near full
      const health = await fetch(`${gw.issuer}/readyz`);
      expect((await fetch(`${gw.issuer}/healthz`)).status).toBe(200);
      expect(health.status).toBe(503);
      expect(await health.json()).toMatchObject({ checks: { audit: 'below its free-space floor' } });
      expect(
        t.logger.lines.some((l) =>
          l.includes('"audit volume at its free-space floor: not ready, refusing events (logins fail closed)"'),
        ),
      ).toBe(true);

      rmSync(ballast);
      await log.record({ type: 'provider_chosen', correlationId: 'after' });
      expect((await fetch(`${gw.issuer}/readyz`)).status).toBe(200);
    } finally {
      await gw.close();
    }
    const verify = await cli('verify', t.dir, '--public-key', t.publicKey);
    expect(verify.code).toBe(0);
  },
);

test('a log cannot be opened on a volume already below its floor', async () => {
  if (volume.skipped) return; // the same tmpfs is needed; the reason is in the test above
  const dir = join(mountPoint, 'full');
  mkdirSync(dir);
  const t = testLog({ dir, min_free_bytes: 64 * 1024 * 1024 });
  await expect(t.open()).rejects.toThrow(
    /audit log refused: audit volume .* bytes free, at or below audit.min_free_bytes \(67108864\)/,
  );
});
