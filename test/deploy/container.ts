// `docker run --read-only` and `docker exec` of an emulated image (image.ts, rootfs.ts): the image's
// ENTRYPOINT and CMD (or the run's arguments) as its USER with its ENV and `-e`, every declared VOLUME
// mounted (a named volume given by the run, else an anonymous one), a new named volume first filled from
// the image with its owner and mode, as Docker does; the rest of the root read-only.
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { GatewayProcess } from '../ops/processes.ts';
import { type Image, imageProcess } from './image.ts';
import { containerCommand, execCommand } from './rootfs.ts';

/** A `-v`: a named volume (a directory of the test's, filled from the image while empty) or a host path. */
export interface Volume {
  source: string;
  target: string;
  readOnly?: boolean;
  named?: boolean;
}

export interface RunOptions {
  /** `-e NAME=VALUE` */
  env?: Record<string, string>;
  volumes?: Volume[];
  /** `--tmpfs` */
  tmpfs?: string[];
  /** `--entrypoint` (Docker then drops the image's CMD) */
  entrypoint?: string[];
  /** the arguments after the image name, replacing its CMD */
  args?: string[];
}

/** Docker's copy-up: a new, empty named volume starts with the image's files at its target. */
function fill(image: Image, volume: Volume) {
  const from = join(image.layer, volume.target);
  if (!volume.named || readdirSync(volume.source).length || !existsSync(from) || !statSync(from).isDirectory()) return;
  execFileSync('cp', ['-a', `${from}/.`, volume.source]);
  const s = statSync(from);
  chownSync(volume.source, s.uid, s.gid);
  chmodSync(volume.source, s.mode & 0o7777);
}

export class Container {
  readonly image: Image;
  readonly process: GatewayProcess;
  readonly volumes: Volume[];
  private readonly env: Record<string, string>;

  /** `dir`: an empty directory of the test's for this container (its scratch and anonymous volumes). */
  constructor(image: Image, dir: string, options: RunOptions = {}) {
    this.image = image;
    const given = options.volumes ?? [];
    const anonymous = image.config.volumes
      .filter((target) => !given.some((v) => v.target === target))
      .map((target, i): Volume => ({ source: join(dir, `volume-${i}`), target, named: true }));
    const depth = (v: Volume) => v.target.split('/').length;
    this.volumes = [...given, ...anonymous].sort((a, b) => depth(a) - depth(b));
    for (const v of anonymous) mkdirSync(v.source);
    for (const v of this.volumes) fill(image, v);
    this.env = options.env ?? {};
    const argv = options.entrypoint
      ? [...options.entrypoint, ...(options.args ?? [])]
      : [...image.config.entrypoint, ...(options.args ?? image.config.cmd)];
    const scratch = join(dir, 'scratch');
    mkdirSync(scratch);
    const command = containerCommand(
      {
        layer: image.layer,
        scratch,
        binds: this.volumes.map((v) => ({ source: v.source, target: v.target, readOnly: !!v.readOnly })),
        tmpfs: options.tmpfs ?? [],
      },
      imageProcess(image, argv, this.env),
    );
    this.process = new GatewayProcess([], { cwd: dir, env: {}, command });
  }

  get output(): string {
    return this.process.output;
  }

  /** `docker exec`: `argv` in the running container, as its user with its environment; exit code and output. */
  exec(argv: string[]): Promise<{ code: number | null; output: string }> {
    const [program, ...args] = execCommand(this.process.child.pid!, imageProcess(this.image, argv, this.env));
    return new Promise((ok) => {
      const child = spawn(program!, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      child.stdout.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr.on('data', (d: Buffer) => (output += d.toString()));
      child.once('exit', (code) => ok({ code, output }));
    });
  }

  /** The image's HEALTHCHECK command, run once as Docker runs it. */
  healthcheck(): Promise<{ code: number | null; output: string }> {
    if (!this.image.config.healthcheck) throw new Error('the image declares no HEALTHCHECK');
    return this.exec(this.image.config.healthcheck);
  }

  /** `docker stop`: the image's STOPSIGNAL, then the exit. */
  stop() {
    return this.process.stop(this.image.config.stopSignal);
  }
}
