// The demo as a newcomer starts it: `PORT=N vpm-gateway start` with config/demo.yaml in a fresh working
// directory and no ISSUER, so the issuer, the printed link and the in-process test peers follow PORT.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, NODE, root } from '../e2e/demo-suite.ts';
import { freePort } from '../support/free-port.ts';

export interface Demo {
  /** the printed link: http://localhost:PORT */
  base: string;
  port: number;
  cwd: string;
  output(): string;
  stop(): Promise<void>;
}

export interface DemoOptions {
  /** ui.return_after_seconds: config/demo.yaml as it is, but the refusal pages return sooner */
  returnAfterSeconds?: number;
  /** more top-level settings appended to config/demo.yaml (YAML) */
  extra?: string;
  /** another configuration file to start (with its own logos and registry), instead of config/demo.yaml */
  config?: string;
}

export async function startDemo(options: DemoOptions = {}): Promise<Demo> {
  const port = await freePort();
  const cwd = mkdtempSync(join(tmpdir(), 'vpm-browser-'));
  let config = options.config ?? join(root, 'config/demo.yaml');
  if (options.returnAfterSeconds !== undefined || options.extra) {
    const text = readFileSync(config, 'utf8')
      .replace('return_after_seconds: 20', `return_after_seconds: ${options.returnAfterSeconds ?? 20}`)
      .replaceAll('logo: logos/', `logo: ${join(root, 'config/logos')}/`)
      .replace('dir: registry', `dir: ${join(root, 'config/registry')}`)
      .concat(options.extra ? `\n${options.extra}\n` : '');
    config = join(cwd, 'demo.yaml');
    writeFileSync(config, text);
  }
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port) };
  delete env.ISSUER;
  const child: ChildProcess = spawn(NODE, [CLI, 'start', '--config', config], {
    cwd,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const base = await new Promise<string>((ok, fail) => {
    const take = (d: Buffer) => {
      output += d.toString();
      const link = /Open the demo e-service: (\S+)\/\n/.exec(output)?.[1];
      if (link) ok(link);
    };
    child.stdout!.on('data', take);
    child.stderr!.on('data', take);
    child.once('exit', (code) => fail(new Error(`gateway exited with ${code}: ${output}`)));
  });
  return {
    base,
    port,
    cwd,
    output: () => output,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((ok) => child.once('exit', ok));
      }
      rmSync(cwd, { recursive: true, force: true });
    },
  };
}
