// Graceful shutdown, as an operator's SIGTERM reaches `vpm-gateway start` (config/demo.yaml, a real child
// process): a bank's answer still arriving when the signal comes is verified and answered, the process
// exits 0, and the audit log it leaves verifies (flushed and checkpointed on the way out).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Browser, parseAutoPost } from '../support/browser.ts';
import { parseForms } from '../../providers/banklink/test-bank/forms.ts';
import { freePort } from '../support/free-port.ts';

const root = resolve(import.meta.dirname, '../..');
const node = join(root, 'node_modules/.bin/node');
const cliPath = join(root, 'bin/vpm-gateway.js');
const config = join(root, 'config/demo.yaml');
let cwd: string;
let child: ChildProcess;
let output = '';
let base: string;

/** Resolves once the gateway's output contains `text` (checked on each chunk, not on a timer). */
function printed(text: string): Promise<void> {
  return new Promise((ok, fail) => {
    if (output.includes(text)) return ok();
    const take = () => {
      if (!output.includes(text)) return;
      child.stdout!.off('data', take);
      child.stderr!.off('data', take);
      ok();
    };
    child.stdout!.on('data', take);
    child.stderr!.on('data', take);
    child.once('exit', (code) => fail(new Error(`gateway exited with ${code} before "${text}": ${output}`)));
  });
}

beforeAll(async () => {
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  cwd = mkdtempSync(join(tmpdir(), 'vpm-shutdown-'));
  child = spawn(node, [cliPath, 'start', '--config', config], {
    cwd,
    env: { ...process.env, PORT: String(port), ISSUER: base },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const collect = (d: Buffer) => {
    output += d.toString();
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  await printed('Open the demo e-service');
}, 60_000);

afterAll(() => {
  if (child.exitCode === null) child.kill('SIGKILL');
  rmSync(cwd, { recursive: true, force: true });
});

test('a login in flight when SIGTERM arrives completes; the process exits 0 and its audit log verifies', async () => {
  expect(output).toMatch(/listening on port \d+ \(127\.0\.0\.1\)/);
  const b = new Browser();
  const bankPage = await b.follow(
    await b.get(`${base}/demo/login?lang=en&idp=demo-bank`),
    (h) => h.status === 200 && !parseAutoPost(h.body, h.url),
  );
  const login = parseForms(bankPage.body, bankPage.url).find((f) => f.id === 'login')!;
  const codePage = await b.post(login.action, { ...login.fields, user: 'janis' });
  const confirm = parseForms(codePage.body, codePage.url).find((f) => f.id === 'confirm')!;
  const answerPage = await b.post(confirm.action, { ...confirm.fields, code: '123456' });
  const answer = parseAutoPost(answerPage.body, answerPage.url)!;
  expect(answer.action).toBe(`${base}/broker/callback/demo-bank`);

  // the browser posts the bank's answer back; half the body is on the wire when SIGTERM comes
  const body = Buffer.from(new URLSearchParams(answer.fields).toString());
  const exited = new Promise<number | null>((ok) => child.once('exit', ok));
  const request = http.request(`${answer.action}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'content-length': body.length,
      cookie: b.cookieHeader(new URL(answer.action)),
    },
  });
  const response = new Promise<http.IncomingMessage>((ok, fail) => {
    request.once('response', ok);
    request.once('error', fail);
  });
  request.write(body.subarray(0, body.length >> 1));
  await new Promise((ok) => setTimeout(ok, 100)); // the server has read the headers: a request in flight
  child.kill('SIGTERM');
  await printed('"msg":"shutting down"');
  // the listener accepts no new connection now
  await expect(fetch(`${base}/healthz`)).rejects.toThrow();
  request.end(body.subarray(body.length >> 1));
  const res = await response;
  res.resume();
  expect(res.statusCode).toBe(303);
  expect(res.headers.location).toMatch(/\/auth\/[^/]+$/);
  expect(await exited).toBe(0);
  expect(output).toContain('"msg":"gateway stopped"');

  const verify = spawnSync(node, [cliPath, 'audit', 'verify', '--config', config], { cwd, encoding: 'utf8' });
  expect(verify.stderr + verify.stdout).not.toMatch(/error|invalid|torn/i);
  expect(verify.status).toBe(0);
  const query = spawnSync(node, [cliPath, 'audit', 'query', '--config', config, '--json'], { cwd, encoding: 'utf8' });
  expect(query.stdout).toContain('"verification"');
}, 60_000);
