// The Dockerfile's promises, kept without a Docker engine: the image built from the Dockerfile as written
// (image.ts) runs as `docker run --read-only --tmpfs /tmp` would run it (container.ts, rootfs.ts):
// as uid 1000 without capabilities, on a read-only root where only /tmp and the VOLUME are writable. Its
// own command (the demo configuration under NODE_ENV=production) serves, answers the HEALTHCHECK as
// written, completes a login and stops cleanly on SIGTERM; so does `start --workers 2` on Redis with a
// mounted configuration and a keys volume, as docs/deploy.md runs it. Both write only under /app/var.
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { Redis } from 'ioredis';
import { Browser } from '../support/browser.ts';
import { exchangeCode, mockProviderLogin, rpConfig } from '../support/gateway.ts';
import { MOCK_BANK } from '../support/provider-entries.ts';
import { freePort } from '../support/free-port.ts';
import { instanceConfig, login, PERSONAL_CODE } from '../ops/deployment.ts';
import { root } from '../ops/processes.ts';
import { Container, type RunOptions } from './container.ts';
import { buildImage, type Image } from './image.ts';
import { unsupported } from './rootfs.ts';

const why = unsupported();
const emulated = why ? test.skip : test;
const skipped = why ? ` (skipped: ${why})` : '';
if (why) process.stderr.write(`test/deploy/read-only-image.test.ts: skipped, ${why}\n`);

let dir: string;
let image: Image;
const running: Container[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'vpm-image-'));
  if (!why) image = buildImage(root, join(dir, 'image'));
}, 60_000);

afterAll(async () => {
  for (const container of running) await container.process.stop('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

function run(name: string, options: RunOptions): Container {
  mkdirSync(join(dir, name));
  const container = new Container(image, join(dir, name), { tmpfs: ['/tmp'], ...options });
  running.push(container);
  return container;
}

/** A new named volume (`docker volume create`), empty. */
function volume(name: string): string {
  const path = join(dir, 'volumes', name);
  mkdirSync(path, { recursive: true });
  return path;
}

/** Where the anonymous volume Docker makes for a declared VOLUME that the run mounts nothing on lives. */
function anonymousVolume(container: Container, target: string): string {
  const found = container.volumes.find((v) => v.target === target);
  if (!found) throw new Error(`the image declares no VOLUME ${target}`);
  return found.source;
}

/** Every file and directory under `path`, relative, with its owner. */
function tree(path: string, under = path): { path: string; uid: number }[] {
  return readdirSync(path).flatMap((name) => {
    const entry = join(path, name);
    const here = { path: relative(under, entry), uid: statSync(entry).uid };
    return statSync(entry).isDirectory() ? [here, ...tree(entry, under)] : [here];
  });
}

// what a write outside the writable paths, or into a directory the node user does not own, would log
const REFUSED = /EROFS|EACCES|EPERM|read-only file system|permission denied|operation not permitted/i;

emulated(
  `the emulated container: uid and gid 1000 without capabilities, everything read-only but /tmp and the volume${skipped}`,
  async () => {
    const probe = [
      'id -u; id -g; id -G; grep -E "^Cap(Prm|Eff|Bnd|Amb)" /proc/self/status',
      'for f in /app/var/probe /tmp/probe /app/probe /app/src/probe /app/config/probe /probe /etc/probe /home/node/probe /var/tmp/probe; do',
      // the last part of touch's complaint: the reason
      '  if out=$(touch "$f" 2>&1); then echo "$f: written"; else echo "$f: $out" | sed "s/: .*: /: /"; fi',
      'done',
    ].join('\n');
    // no -v: the declared VOLUME alone makes /app/var writable
    const container = run('probe', { entrypoint: ['/bin/sh', '-c', probe] });
    const var_ = anonymousVolume(container, '/app/var');
    expect(await container.process.exit).toEqual({ code: 0, signal: null });
    const lines = container.output.trim().split('\n');
    expect(lines.slice(0, 3)).toEqual(['1000', '1000', '1000']);
    expect(lines.slice(3, 7).map((l) => l.split(/\s+/)[1])).toEqual(Array(4).fill('0000000000000000'));
    expect(lines.slice(7)).toEqual([
      '/app/var/probe: written',
      '/tmp/probe: written',
      ...['/app', '/app/src', '/app/config', '', '/etc', '/home/node', '/var/tmp'].map(
        (d) => `${d}/probe: Read-only file system`,
      ),
    ]);
    // the volume started with the image's /app/var: its directories, owned by node
    expect(tree(var_)).toEqual(
      expect.arrayContaining(['audit', 'audit-key', 'dev', 'keys', 'probe'].map((path) => ({ path, uid: 1000 }))),
    );
  },
);

emulated(
  `the image's own command: the demo configuration under NODE_ENV=production serves, passes the HEALTHCHECK, logs in, stops on SIGTERM, and writes only its volume${skipped}`,
  async () => {
    const port = await freePort();
    const container = run('default', { env: { PORT: String(port) } });
    const var_ = anonymousVolume(container, '/app/var');
    const base = (await container.process.printed(/Open the demo e-service: (\S+)\/\n/))[1]!;
    expect(container.output).toContain(`listening on port ${port} (0.0.0.0)`);
    expect(container.output).toContain('"config":"/app/config/demo.yaml"');
    expect(await (await fetch(`${base}/healthz`)).json()).toEqual({ status: 'ok' });
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    expect(await container.healthcheck()).toEqual({ code: 0, output: '' });

    const b = new Browser();
    const selection = await b.follow(await b.get(`${base}/demo/login?lang=en`));
    const chosen = await b.post(`${selection.url}/provider`, { provider: 'demo-eid' });
    const page = await b.follow(await mockProviderLogin(b, chosen, 0));
    expect(page.url).toMatch(new RegExp(`^${base}/demo/callback`));
    expect(page.body).toContain(`<dt>sub</dt><dd>PNOLV-${PERSONAL_CODE}</dd>`);

    expect(await container.stop()).toEqual({ code: 0, signal: null });
    expect(container.output).toContain('"msg":"gateway stopped"');
    expect(container.output).not.toMatch(REFUSED);
    const written = tree(var_);
    expect(written.filter((f) => f.uid !== 1000)).toEqual([]);
    const files = written.map((f) => f.path);
    for (const expected of [
      /^keys\/.+\.jwk\.json$/,
      /^audit\/segment-\d+\.jsonl$/,
      /^audit-key\/checkpoint\.pem$/,
      /^dev\/banklink\//,
      /^dev\/saml\//,
    ])
      expect(files).toContainEqual(expect.stringMatching(expected));
    const segment = files.find((f) => f.startsWith('audit/segment-'))!;
    expect(readFileSync(join(var_, segment), 'utf8')).toContain(`"type":"tokens_issued"`);
  },
  60_000,
);

emulated(
  `start --workers 2 on Redis with a mounted configuration, a var volume and a shared keys volume, as docs/deploy.md runs it${skipped}`,
  async () => {
    const port = await freePort();
    const prefix = `vpmtest:image:${randomBytes(6).toString('hex')}:`;
    const issuer = `http://127.0.0.1:${port}`;
    // paths as the container sees them: the var volume's, which the image's relative defaults name too
    const config = instanceConfig(join(dir, 'gateway.yaml'), {
      dir: '/app/var',
      issuer,
      port,
      redisUrl: process.env.VPM_TEST_REDIS_URL!,
      prefix,
      bank: MOCK_BANK,
      audit: { dir: '/app/var/audit' },
    });
    const [var_, keys] = [volume('workers-var'), volume('workers-keys')];
    const container = run('workers', {
      env: { VPM_CONFIG: '/etc/vpm/gateway.yaml', PORT: String(port) },
      volumes: [
        { source: var_, target: '/app/var', named: true },
        { source: keys, target: '/app/var/keys', named: true },
        { source: config, target: '/etc/vpm/gateway.yaml', readOnly: true },
      ],
      args: ['start', '--workers', '2'],
    });
    try {
      for (const worker of [1, 2])
        await container.process.printed(new RegExp(`"worker":${worker},"pid":\\d+,.*"msg":"worker listening"`));
      expect((await fetch(`${issuer}/readyz`)).status).toBe(200);
      expect(await container.healthcheck()).toEqual({ code: 0, output: '' });
      const rp = await rpConfig(issuer);
      const sent = await login(rp, 'mock');
      expect((await exchangeCode(rp, sent, sent.callback)).claims()).toMatchObject({ sub: `PNOLV-${PERSONAL_CODE}` });

      expect(await container.stop()).toEqual({ code: 0, signal: null });
      expect(container.output).not.toMatch(REFUSED);
      const inVar = tree(var_).map((f) => f.path);
      for (const worker of [1, 2])
        expect(inVar).toContainEqual(expect.stringMatching(new RegExp(`^audit/worker-${worker}/segment-`)));
      // the keys went to their own volume; the var volume's keys directory, beneath it, stayed empty
      expect(readdirSync(join(var_, 'keys'))).toEqual([]);
      expect(tree(keys).map((f) => f.path)).toContainEqual(expect.stringMatching(/\.jwk\.json$/));
      expect([...tree(var_), ...tree(keys)].filter((f) => f.uid !== 1000)).toEqual([]);
    } finally {
      const redis = new Redis(process.env.VPM_TEST_REDIS_URL!);
      const stored = await redis.keys(`${prefix}*`);
      if (stored.length) await redis.del(...stored);
      redis.disconnect();
    }
  },
  60_000,
);
