// `docker build` of the repository's Dockerfile without a Docker engine: the final stage's instructions
// applied in order to a layer directory (WORKDIR, COPY with .dockerignore, RUN in the emulated root, ENV,
// USER, VOLUME, ENTRYPOINT, CMD, HEALTHCHECK, STOPSIGNAL) over the base image of base-image.ts. A
// `COPY --from=<stage> .../node_modules` of a stage that runs `npm ci --omit=dev` is the lockfile's
// production packages, hard-linked from the repository's node_modules (no registry here).
import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  cpSync,
  existsSync,
  lchownSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  rmdirSync,
  statSync,
  unlinkSync,
} from 'node:fs';
import { constants } from 'node:os';
import { basename, dirname, isAbsolute, join, posix, relative, resolve } from 'node:path';
import {
  command,
  envPairs,
  healthcheck,
  type ImageConfig,
  type Instruction,
  literal,
  parseDockerfile,
  type Stage,
  UnsupportedDockerfile,
} from './dockerfile.ts';
import { baseImage, link, resolveUser } from './base-image.ts';
import { type ContainerProcess, containerCommand } from './rootfs.ts';

export interface Image {
  /** the image's files, one merged layer */
  layer: string;
  config: ImageConfig;
}

/** A process of the image as Docker starts one: as its USER, in its WORKDIR, with its ENV, HOME from
 * /etc/passwd, and `env` (`-e`) over them. */
export function imageProcess(image: Image, argv: string[], env: Record<string, string> = {}): ContainerProcess {
  const { uid, gid, home } = resolveUser(image.layer, image.config.user);
  return { argv, workdir: image.config.workdir, env: { HOME: home, ...image.config.env, ...env }, uid, gid };
}

/** The context's .dockerignore as a test of context-relative paths (plain paths only: no wildcards). */
function dockerignore(context: string): (path: string) => boolean {
  const file = join(context, '.dockerignore');
  const patterns = (existsSync(file) ? readFileSync(file, 'utf8') : '')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      if (/[*?[\]!]/.test(l)) throw new UnsupportedDockerfile(`.dockerignore: ${l}: only plain paths are emulated`);
      return posix.normalize(l).replace(/^\/+|\/+$/g, '');
    });
  return (path) => patterns.some((p) => path === p || path.startsWith(`${p}/`));
}

/** `COPY --from=<stage> <workdir>/node_modules ...` of a stage whose one step is `npm ci --omit=dev`. */
function copyProductionModules(context: string, stages: Stage[], step: Instruction, target: string) {
  const stage = stages.find((s) => s.name === step.flags.from);
  const workdir = stage?.instructions.findLast((i) => i.keyword === 'WORKDIR')?.args[0];
  const runs = stage?.instructions.filter((i) => i.keyword === 'RUN') ?? [];
  const [source, dest] = step.args;
  if (
    !workdir ||
    step.args.length !== 2 ||
    source !== posix.join(workdir, 'node_modules') ||
    basename(dest!) !== 'node_modules' ||
    runs.length !== 1 ||
    !/^npm ci\b.*\s--omit=dev\b/.test(runs[0]!.text)
  )
    throw new UnsupportedDockerfile(
      `Dockerfile:${step.line}: only COPY --from a stage's \`npm ci --omit=dev\` node_modules is emulated`,
    );
  const lock = JSON.parse(readFileSync(join(context, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { dev?: boolean; optional?: boolean }>;
  };
  const modules = realpathSync(join(context, 'node_modules'));
  const packages = Object.entries(lock.packages)
    .filter(([path, p]) => /^node_modules\/(@[^/]+\/)?[^/]+$/.test(path) && !p.dev)
    .filter(([path, p]) => existsSync(join(dirname(modules), path)) || !p.optional)
    .map(([path]) => path);
  mkdirSync(dirname(target), { recursive: true });
  link(dirname(modules), packages, dirname(target));
}

/** A file about to be written in the layer is replaced, never written through: it may be a hard link into
 * the repository's node_modules. */
function replace(path: string) {
  if (existsSync(path) && !statSync(path).isDirectory()) unlinkSync(path);
}

/** COPY from the build context: files and directory contents, root-owned unless --chown says otherwise. */
function copyFromContext(context: string, layer: string, step: Instruction, workdir: string) {
  const ignored = dockerignore(context);
  const sources = step.args.slice(0, -1).map((s) => literal(step, s));
  const dest = literal(step, step.args.at(-1)!);
  const target = posix.resolve(workdir, dest);
  const copied: string[] = [];
  for (const source of sources) {
    const path = relative(context, resolve(context, source));
    if (
      path.startsWith('..') ||
      isAbsolute(path) ||
      /[*?[]/.test(source) ||
      ignored(path) ||
      !existsSync(join(context, path))
    )
      throw new UnsupportedDockerfile(`Dockerfile:${step.line}: COPY ${source}: not a plain path in the build context`);
    const from = join(context, path);
    if (statSync(from).isDirectory())
      cpSync(from, join(layer, target), {
        recursive: true,
        filter: (src, to) => {
          if (ignored(relative(context, src))) return false;
          replace(to);
          copied.push(to);
          return true;
        },
      });
    else {
      const to = dest.endsWith('/') || sources.length > 1 ? join(layer, target, basename(from)) : join(layer, target);
      mkdirSync(dirname(to), { recursive: true });
      replace(to);
      copyFileSync(from, to);
      copied.push(to);
    }
  }
  const { uid, gid } = step.flags.chown ? resolveUser(layer, literal(step, step.flags.chown)) : { uid: 0, gid: 0 };
  for (const path of copied) lchownSync(path, uid, gid);
}

/** RUN in the emulated root as the current USER; its writes become part of the layer. */
function run(layer: string, dir: string, step: Instruction, config: ImageConfig) {
  const scratch = mkdtempSync(join(dir, 'run-'));
  const newLayer = mkdtempSync(join(dir, 'layer-'));
  try {
    const [program, ...args] = containerCommand(
      { layer, scratch, binds: [], tmpfs: ['/tmp'], newLayer },
      imageProcess({ layer, config }, command(step)),
    );
    try {
      execFileSync(program!, args, { stdio: 'pipe' });
    } catch (err) {
      throw new Error(`Dockerfile:${step.line}: RUN failed: ${String((err as { stderr?: Buffer }).stderr ?? err)}`);
    }
    // top-level directories the step left alone are no part of its layer
    for (const name of readdirSync(newLayer))
      if (!readdirSync(join(newLayer, name)).length) rmdirSync(join(newLayer, name));
    execFileSync('cp', ['-a', '--remove-destination', `${newLayer}/.`, layer]);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
    rmSync(newLayer, { recursive: true, force: true });
  }
}

/** Builds the final stage of `context`/Dockerfile into `dir` (which must not lie under /etc, /usr or /home). */
export function buildImage(context: string, dir: string): Image {
  const stages = parseDockerfile(readFileSync(join(context, 'Dockerfile'), 'utf8'));
  const final = stages.at(-1)!;
  const layer = join(dir, 'layer');
  mkdirSync(layer, { recursive: true });
  const config: ImageConfig = {
    workdir: '/',
    env: baseImage(final.from, layer),
    user: 'root',
    volumes: [],
    // the node image's own ENTRYPOINT (docker-entrypoint.sh) is not emulated: the Dockerfile must set one
    entrypoint: [],
    cmd: [],
    healthcheck: undefined,
    stopSignal: 'SIGTERM',
  };
  for (const step of final.instructions) {
    const arg = () => literal(step, step.text);
    switch (step.keyword) {
      case 'WORKDIR':
        config.workdir = posix.resolve(config.workdir, arg());
        mkdirSync(join(layer, config.workdir), { recursive: true });
        break;
      case 'ENV':
        for (const [k, v] of envPairs(step)) config.env[k] = v;
        break;
      case 'COPY':
        if (step.flags.from)
          copyProductionModules(context, stages, step, join(layer, posix.resolve(config.workdir, step.args[1]!)));
        else copyFromContext(context, layer, step, config.workdir);
        break;
      case 'RUN':
        run(layer, dir, step, config);
        break;
      case 'USER':
        config.user = arg();
        break;
      case 'VOLUME':
        config.volumes.push(...step.args.map((v) => posix.resolve('/', literal(step, v))));
        break;
      case 'HEALTHCHECK':
        config.healthcheck = healthcheck(step);
        break;
      case 'ENTRYPOINT':
        config.entrypoint = command(step);
        break;
      case 'CMD':
        config.cmd = command(step);
        break;
      case 'STOPSIGNAL':
        if (!Object.hasOwn(constants.signals, arg()))
          throw new UnsupportedDockerfile(`Dockerfile:${step.line}: STOPSIGNAL: a signal name`);
        config.stopSignal = arg() as NodeJS.Signals;
        break;
    }
  }
  if (!config.entrypoint.length) throw new UnsupportedDockerfile('the final stage sets no ENTRYPOINT');
  return { layer, config };
}
