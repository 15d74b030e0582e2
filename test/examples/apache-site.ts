// A private Debian apache2 running examples/apache-mod-auth-openidc against the demo gateway: its own
// ServerRoot, port, pid file and runtime folder in a temporary folder, in the foreground, with the
// example's site file (or a variant of it written next to it) and mod_auth_openidc; and what the tests
// read on mod_auth_openidc's pages.
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, root, settle, startProcess, printLogs, type Child, type Hop } from './support.ts';
import { exampleServiceRun } from './service-run.ts';

const APACHE = '/usr/sbin/apache2';
const MODULES = '/usr/lib/apache2/modules';
const missing = [APACHE, join(MODULES, 'mod_auth_openidc.so')].filter((f) => !existsSync(f));
export const describeIfApache = missing.length ? describe.skip : describe;
if (missing.length)
  console.warn(
    `skipping examples/apache-mod-auth-openidc: ${missing.join(', ')} missing (apt-get install apache2 libapache2-mod-auth-openidc)`,
  );

/** The Debian modules the example needs (a2enmod auth_openidc include env, plus Debian's defaults). */
const LOAD = ['mpm_event', 'authz_core', 'authz_user', 'authn_core', 'mime', 'dir', 'env', 'include', 'auth_openidc'];

export const SITE = 'vpm-example-site.conf';

/** The site file with one line replaced (or added after it); fails when the line is not there. */
export function siteVariant(site: string, line: string, replacement: string): string {
  if (!site.includes(`\n    ${line}\n`)) throw new Error(`${SITE} has no line "${line}"`);
  return site.replace(`\n    ${line}\n`, `\n    ${replacement}\n`);
}

/**
 * mod_auth_openidc's page for OIDCProviderAuthRequestMethod POST: a form with the authorization request
 * as hidden fields, submitted by the page's onload script. Submitted here as a browser would.
 */
export async function submitModuleForm(b: Browser, page: Hop): Promise<Hop> {
  expect(page.body).toContain('document.forms[0].submit');
  const form = /<form method="post" action="([^"]+)">([\s\S]*?)<\/form>/.exec(page.body);
  if (!form) throw new Error(`no authorization request form: ${page.status} ${page.body.slice(0, 300)}`);
  const fields: Record<string, string> = {};
  for (const m of form[2]!.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)"/g))
    fields[m[1]!] = m[2]!
      .replaceAll('&quot;', '"')
      .replaceAll('&lt;', '<')
      .replaceAll('&gt;', '>')
      .replaceAll('&amp;', '&');
  return settle(b, await b.post(form[1]!.replaceAll('&amp;', '&'), fields));
}

/** Logged in with the mock eID: back on the protected page, which greets its first test person. */
export function expectWelcomed(page: Hop, rpBase: string): void {
  expect(page.url).toBe(`${rpBase}/protected/`);
  expect(page.status).toBe(200);
  expect(page.body).toContain('Welcome, Jānis Bērziņš');
}

/**
 * Registers, in the current describe block, the demo gateway with the example copied where Apache's user
 * can read it; returns it (`run`) with the ways to start apache2 on a site file.
 */
export function useApacheSite() {
  const run = exampleServiceRun((gateway) => {
    const serverRoot = mkdtempSync(join(tmpdir(), 'vpm-apache-'));
    // Run as root, Apache serves requests as www-data: the example (site file unchanged, pages, error
    // template) is copied where that user can read it, as one would install it under /srv. The CA bundle
    // is certs/dev/ca.pem where `certs dev` wrote it (0644 in a 0755 folder), in the gateway's working
    // directory, opened to others as a checkout under /srv or a home folder would be.
    chmodSync(serverRoot, 0o755);
    chmodSync(gateway.dir, 0o755);
    const example = join(serverRoot, 'example');
    cpSync(join(root, 'examples/apache-mod-auth-openidc'), example, { recursive: true });
    mkdirSync(join(serverRoot, 'run'));
    return {
      rpBase: `http://127.0.0.1:${gateway.ports.apache}`,
      serverRoot,
      example,
      ca: gateway.caFile,
      cleanup: () => rmSync(serverRoot, { recursive: true, force: true }),
    };
  });

  /**
   * A private apache2 on the example's port with the given site file (in the example's folder), until
   * stopped. Every run uses the same port, hence the same registered redirect URI.
   */
  async function startApache(siteFile: string): Promise<Child> {
    const { gateway, serverRoot, example, ca, rpBase } = run;
    const asRoot = process.getuid?.() === 0;
    const conf = join(serverRoot, 'apache2.conf');
    writeFileSync(
      conf,
      [
        `ServerRoot ${serverRoot}`,
        `ServerName 127.0.0.1`,
        `Listen 127.0.0.1:${gateway.ports.apache}`,
        `PidFile ${serverRoot}/run/apache2.pid`,
        `DefaultRuntimeDir ${serverRoot}/run`,
        'ErrorLog "|/bin/cat"',
        'LogLevel notice auth_openidc:info',
        ...(asRoot ? ['User www-data', 'Group www-data'] : []),
        ...LOAD.map((m) => `LoadModule ${m}_module ${MODULES}/mod_${m}.so`),
        'TypesConfig /etc/mime.types',
        `Define VPM_LISTEN 127.0.0.1:${gateway.ports.apache}`,
        `Define VPM_SERVICE_URL ${rpBase}`,
        `Define VPM_ISSUER ${gateway.issuer}`,
        'Define VPM_CLIENT_ID example-apache',
        'Define VPM_CLIENT_SECRET example-apache-secret-not-for-production',
        `Define VPM_CA_BUNDLE ${ca}`,
        'Define VPM_CRYPTO_PASSPHRASE example-passphrase-0123456789-abcdefghij',
        `Define VPM_EXAMPLE_DIR ${example}`,
        `Include ${join(example, siteFile)}`,
        '',
      ].join('\n'),
    );
    // -DFOREGROUND: Debian's apache2 with its usual processes, the parent in the foreground (SIGTERM stops
    // them all); the error log goes through a piped `cat` to the test, which waits for "resuming normal operations"
    const apache = startProcess(APACHE, ['-f', conf, '-DFOREGROUND'], {
      cwd: serverRoot,
      ready: 'resuming normal operations',
      what: 'apache2',
    });
    await apache.ready;
    return apache;
  }

  /** Writes a variant of the example's site file next to it (same folder, same pages). */
  function writeSiteVariant(name: string, change: (site: string) => string): string {
    const file = `vpm-example-site.${name}.conf`;
    writeFileSync(join(run.example, file), change(readFileSync(join(run.example, SITE), 'utf8')));
    return file;
  }

  /** For the tests of the enclosing describe: apache2 with the site file `siteFile()` returns (writing it if need be). */
  function apacheDuring(siteFile: () => string): void {
    let apache: Child | undefined;
    beforeAll(async () => {
      apache = await startApache(siteFile());
    }, 60_000);
    afterAll(async () => {
      printLogs(apache);
      await apache?.stop();
    });
  }

  return { run, startApache, writeSiteVariant, apacheDuring };
}
