// A login whose tokens are asked for while the audit volume is full, on a real small filesystem (a tmpfs;
// mounting needs root): the release of the identity cannot be recorded, so no tokens go out, and the
// agency service gets the OAuth error it can act on (temporarily_unavailable, 503, Retry-After: try
// again later), not a server_error. Once space returns logins get their tokens again and every released
// identity is in the log, which verifies. A write that ran into ENOSPC latches the log (README: restart);
// the tail it tore is then refused at start, named, and moved aside by `audit repair`.
import { readFileSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import type { FileAuditLog } from '../../src/audit/log.ts';
import type { Configuration } from 'openid-client';
import { exchangeCode, loginThroughMock, startGateway } from '../support/gateway.ts';
import { rpConfig } from '../support/agency-client.ts';
import { cli, configFile, testLog } from './helpers.ts';
import { useTmpfs } from './support/tmpfs.ts';

const volume = useTmpfs('1m');
const { mountPoint, skipped } = volume;

/** Fill the volume until `leave` bytes are free (0: full). */
function fill(path: string, leave: number): void {
  const { bavail, bsize } = statfsSync(mountPoint);
  try {
    writeFileSync(path, Buffer.alloc(Math.max(0, bavail * bsize - leave) + (leave ? 0 : 1024 * 1024)));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err; // full: as wanted
  }
}

/** The agency service (openid-client) asks for the tokens of `login`: refused with temporarily_unavailable. */
async function expectTokensWithheld(rp: Configuration, login: Awaited<ReturnType<typeof loginThroughMock>>) {
  const refused = await exchangeCode(rp, login, login.callback!).then(
    (tokens) => new Error(`tokens were released: ${Object.keys(tokens).join(', ')}`),
    (err: unknown) => err,
  );
  // a token error other than 400/401 reaches openid-client's caller as the response itself (RFC 6749 5.2
  // names 400; the store outage's answer is the same 503)
  const response = (refused as Error).cause as Response;
  expect(response).toBeInstanceOf(Response);
  expect(response.status).toBe(503);
  expect(response.headers.get('retry-after')).toMatch(/^\d+$/);
  const body = (await response.json()) as Record<string, unknown>;
  expect(body.error).toBe('temporarily_unavailable');
  expect(Object.keys(body).filter((k) => k.endsWith('_token'))).toEqual([]);
}

volume.test(
  `below the free-space floor the token request is answered temporarily_unavailable; once space returns tokens go out${skipped}`,
  async () => {
    const dir = join(mountPoint, 'floor');
    // a floor of half the volume: every write measures the free space (it is within twice the floor)
    const t = testLog({ dir, min_free_bytes: 512 * 1024 });
    const log: FileAuditLog = await t.open();
    const gw = await startGateway({ audit: log });
    const filler = join(mountPoint, 'filler');
    try {
      const rp = await rpConfig(gw.issuer);
      const refused = await loginThroughMock(rp);
      fill(filler, 256 * 1024);
      await expectTokensWithheld(rp, refused);
      expect(gw.logLines.join('\n')).toContain('audit log unavailable');
      rmSync(filler);

      const login = await loginThroughMock(rp);
      const tokens = await exchangeCode(rp, login, login.callback!);
      expect(tokens.claims()?.sub).toBeDefined();
      // userinfo releases the identity again, recorded first: below the floor it is withheld the same way
      fill(filler, 256 * 1024);
      const userinfo = await fetch(`${gw.issuer}/me`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
      expect({ status: userinfo.status, body: await userinfo.json() }).toMatchObject({
        status: 503,
        body: { error: 'temporarily_unavailable' },
      });
      rmSync(filler);
      await log.checkpoint();
      const released = await cli('query', dir, '--event', 'identity_released', '--json');
      expect(released.json.entries.map((e: { client: string }) => e.client)).toEqual(['rp']);
      const verify = await cli('verify', dir, '--public-key', t.publicKey, '--json');
      expect(verify.json.problems).toEqual([]);
    } finally {
      rmSync(filler, { force: true });
      await gw.close();
    }
  },
);

volume.test(
  `a write that ran into ENOSPC: tokens withheld with temporarily_unavailable; after a restart the torn tail is named and repaired${skipped}`,
  async () => {
    const dir = join(mountPoint, 'enospc');
    const t = testLog({ dir, min_free_bytes: 0 });
    const log: FileAuditLog = await t.open();
    const gw = await startGateway({ audit: log });
    const filler = join(mountPoint, 'filler');
    try {
      const rp = await rpConfig(gw.issuer);
      const login = await loginThroughMock(rp);
      fill(filler, 0);
      // an entry larger than a page of the volume: whatever the segment's last page has left, it needs another
      const wrote = await log
        .record({
          type: 'provider_chosen',
          detail: {
            a: 'x'.repeat(1000),
            b: 'y'.repeat(1000),
            c: 'z'.repeat(1000),
            d: 'w'.repeat(1000),
            e: 'v'.repeat(1000),
          },
        })
        .catch((err: Error) => err);
      expect(String(wrote)).toContain('ENOSPC');
      await expectTokensWithheld(rp, login);
      expect(log.status()).toMatchObject({ healthy: false });
    } finally {
      await gw.close();
    }
    rmSync(filler);
    const config = configFile(t);
    const yaml = parse(readFileSync(config, 'utf8'));
    yaml.audit.min_free_bytes = 0;
    writeFileSync(config, stringify(yaml));
    const refused = await t.open().catch((err: Error) => err.message);
    expect(refused).toContain(`audit log in ${dir} has a torn tail`);
    const repair = await cli('repair', '--config', config);
    expect(repair.code).toBe(0);
    const reopened = await t.open();
    await reopened.close();
    const repaired = await cli('query', dir, '--event', 'audit_log_repaired', '--json');
    expect(repaired.json.count).toBe(1);
    // the withheld tokens' identity was never recorded as released
    expect((await cli('query', dir, '--event', 'identity_released', '--json')).json.count).toBe(0);
    const verify = await cli('verify', dir, '--config', config, '--json');
    expect(verify.json.problems).toEqual([]);
    expect(verify.code).toBe(0);
  },
);
