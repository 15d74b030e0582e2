// What the example tests share: a demo gateway over HTTPS with the development PKI (the real CLI as a
// child process with examples/gateway.yaml), the example e-services as child processes, and a person's
// clicks through the gateway's pages (selection page, mock eID, test bank) in the project's
// cookie-keeping browser. Nothing here waits for a fixed time: every wait is for a line of output.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import tls from 'node:tls';
import { promisify } from 'node:util';
import { Browser, parseAutoPost, type Hop } from '../support/browser.ts';
import { mockProviderLogin } from '../support/gateway.ts';
import { parseForms } from '../../providers/banklink/test-bank/forms.ts';
import { oidcLoginForm } from '../e2e/demo-suite.ts';
import { freePort } from '../support/free-port.ts';

export const root = resolve(import.meta.dirname, '../..');
export const NODE = join(root, 'node_modules/.bin/node');
const CLI = join(root, 'bin/vpm-gateway.js');

/** The example ports in examples/gateway.yaml, replaced by free ones in the tests. */
export const EXAMPLE_PORTS = { gateway: 3443, node: 8401, apache: 8402, python: 8403 } as const;

export interface Child {
  process: ChildProcess;
  /** resolves once the ready text appeared; rejects when the program exits first */
  ready: Promise<void>;
  output(): string;
  /** SIGTERM and wait for the exit (also when it never became ready) */
  stop(): Promise<void>;
}

/** Starts a program; its `ready` resolves once `ready` appears in its output. */
export function startProcess(
  command: string,
  args: string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; ready: string | RegExp; what: string },
): Child {
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<void>((ok) => child.once('close', () => ok()));
  const seen = () => (typeof options.ready === 'string' ? output.includes(options.ready) : options.ready.test(output));
  const ready = new Promise<void>((ok, fail) => {
    const onData = (d: Buffer) => {
      output += d.toString();
      if (seen()) ok();
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('error', (err) => fail(new Error(`${options.what}: ${err.message}`)));
    child.once('exit', (code, signal) => {
      if (!seen()) fail(new Error(`${options.what} exited (${code ?? signal}) before it was ready:\n${output}`));
    });
  });
  ready.catch(() => {}); // reported where it is awaited
  return {
    process: child,
    ready,
    output: () => output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** VPM_EXAMPLES_LOGS=1 prints the output of the gateway and the example processes after each test file. */
export function printLogs(...children: (Child | undefined)[]): void {
  if (process.env.VPM_EXAMPLES_LOGS !== '1') return;
  for (const c of children) if (c) console.log(`${c.process.spawnargs.join(' ')}:\n${c.output()}`);
}

export interface ExampleGateway {
  issuer: string;
  /** the development CA the e-services must trust */
  caFile: string;
  caPem: string;
  /** examples/gateway.yaml with the example ports replaced, as started */
  configFile: string;
  ports: { node: number; apache: number; python: number };
  dir: string;
  child: Child;
  close(): Promise<void>;
}

/**
 * `vpm-gateway certs dev` and `vpm-gateway start --config examples/gateway.yaml` in a fresh working
 * directory, with free ports in place of the example ports (the gateway's and the e-services' ones).
 */
export async function startExampleGateway(): Promise<ExampleGateway> {
  const dir = mkdtempSync(join(tmpdir(), 'vpm-examples-'));
  await promisify(execFile)(NODE, [CLI, 'certs', 'dev'], { cwd: dir });
  const gatewayPort = await freePort();
  const ports = { node: await freePort(), apache: await freePort(), python: await freePort() };
  const issuer = `https://127.0.0.1:${gatewayPort}`;
  const configFile = join(dir, 'gateway.yaml');
  writeFileSync(
    configFile,
    readFileSync(join(root, 'examples/gateway.yaml'), 'utf8')
      .replaceAll(`127.0.0.1:${EXAMPLE_PORTS.node}/`, `127.0.0.1:${ports.node}/`)
      .replaceAll(`127.0.0.1:${EXAMPLE_PORTS.apache}/`, `127.0.0.1:${ports.apache}/`)
      .replaceAll(`127.0.0.1:${EXAMPLE_PORTS.python}/`, `127.0.0.1:${ports.python}/`),
  );
  const child = startProcess(NODE, [CLI, 'start', '--config', configFile], {
    cwd: dir,
    env: { PORT: String(gatewayPort), ISSUER: issuer },
    ready: `listening on port ${gatewayPort}`,
    what: 'vpm-gateway',
  });
  try {
    await child.ready;
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const caFile = join(dir, 'certs/dev/ca.pem');
  return {
    issuer,
    caFile,
    caPem: readFileSync(caFile, 'utf8'),
    configFile,
    ports,
    dir,
    child,
    async close() {
      await child.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The test's browser trusts the development CA, as a developer's browser would after importing it. */
export function trustCa(pem: string): () => void {
  const before = tls.getCACertificates('default');
  tls.setDefaultCACertificates([...before, pem]);
  return () => tls.setDefaultCACertificates(before);
}

/** Follows redirects and auto-submitting forms until a page that needs the person (or an end page). */
export function settle(b: Browser, hop: Hop): Promise<Hop> {
  return b.follow(hop, (h) => h.status < 300 && !parseAutoPost(h.body, h.url));
}

/** On the gateway's selection page: click a provider. */
export async function choose(b: Browser, selection: Hop, provider: string): Promise<Hop> {
  expect(selection.body).toContain(`data-provider="${provider}"`);
  const form = parseForms(selection.body, selection.url).find((f) => f.fields.provider === provider);
  if (!form) throw new Error(`no ${provider} on the selection page`);
  return b.post(form.action, form.fields);
}

/** On the gateway's selection page: "Cancel and return to the service". */
export async function cancel(b: Browser, selection: Hop): Promise<Hop> {
  const form = parseForms(selection.body, selection.url).find((f) => f.action.endsWith('/abort'));
  if (!form) throw new Error(`no cancel button on ${selection.url}: ${selection.body.slice(0, 300)}`);
  return settle(b, await b.post(form.action, form.fields));
}

/** From the selection page through the mock eID as its first test person (Jānis Bērziņš) back to the service. */
export async function loginWithMockEid(b: Browser, selection: Hop): Promise<Hop> {
  const chosen = await choose(b, selection, 'demo-eid');
  return settle(b, await mockProviderLogin(b, chosen, 0));
}

/** Through the in-process test bank demo-bank (user janis, one-time code 123456) back to the service. */
export async function loginWithDemoBank(b: Browser, hop: Hop): Promise<Hop> {
  const bankPage = hop.url.includes('/demo/banks/') ? hop : await settle(b, await choose(b, hop, 'demo-bank'));
  expect(bankPage.url).toMatch(/\/demo\/banks\/demo-bank\/$/);
  const login = parseForms(bankPage.body, bankPage.url).find((f) => f.id === 'login')!;
  const codePage = await b.post(login.action, { ...login.fields, user: 'janis' });
  const confirm = parseForms(codePage.body, codePage.url).find((f) => f.id === 'confirm')!;
  return settle(b, await b.post(confirm.action, { ...confirm.fields, code: '123456' }));
}

/** At the in-process OIDC test eID's page (under /demo/oidc-eid): log in as `user` (default janis) and come back to the service. */
export async function loginWithOidcTestEid(b: Browser, opPage: Hop, user = 'janis'): Promise<Hop> {
  expect(opPage.url).toMatch(/\/demo\/oidc-eid\/interaction\//);
  const login = oidcLoginForm(opPage.body, opPage.url);
  return settle(b, await b.post(login.action, { user, acr: 'http://eidas.europa.eu/LoA/high', amr: 'smart_card' }));
}

/** The parameters of the first authorization request this browser sent to the gateway by GET. */
export function authorizationRequest(b: Browser, issuer: string): URLSearchParams {
  const request = b.history.find((h) => h.url.startsWith(`${issuer}/auth?`));
  if (!request) throw new Error(`no authorization request to ${issuer} by GET`);
  return new URL(request.url).searchParams;
}

/** How many authorization requests this browser sent to the gateway (a loop would send more than one). */
export function authorizationRequests(b: Browser, issuer: string): number {
  return b.history.filter((h) => h.url.startsWith(`${issuer}/auth?`) || h.url === `${issuer}/auth`).length;
}

export { Browser, type Hop };

/** On the gateway's logout confirmation page: "yes, log me out" (as the person's click). */
export async function confirmLogout(b: Browser, confirm: Hop): Promise<Hop> {
  expect(confirm.url).toContain('/session/end');
  const form = /<form[^>]*id="op.logoutForm"[^>]*action="([^"]+)"[^>]*>([\s\S]*?)<\/form>/.exec(confirm.body);
  if (!form) throw new Error(`no logout confirmation form: ${confirm.status} ${confirm.body.slice(0, 300)}`);
  const xsrf = /name="xsrf" value="([^"]+)"/.exec(form[2]!)![1]!;
  return settle(b, await b.post(new URL(form[1]!, confirm.url).toString(), { xsrf, logout: 'yes' }));
}
