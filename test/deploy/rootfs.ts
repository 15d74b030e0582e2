// A container's root filesystem without a Docker engine: a shell script run in a private mount namespace
// (`unshare -m`) that assembles, on a tmpfs, each top-level directory of the host overlaid by the image's
// layer and the container's mountpoints (Docker's overlay2: image layers, then the -init layer), read-only;
// then /dev, /proc, a read-only /sys, the --tmpfs mounts and the -v mounts; and runs the process there,
// chrooted, with only the given environment, as the given uid/gid, without supplementary groups or
// capabilities. The namespace, and every mount in it, ends with the last process inside it.
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** A -v mount: a host directory or file at `target` in the container. */
export interface Bind {
  source: string;
  target: string;
  readOnly: boolean;
}

/** What runs inside, and as whom. */
export interface ContainerProcess {
  argv: string[];
  workdir: string;
  env: Record<string, string>;
  uid: number;
  gid: number;
}

export interface RootSpec {
  /** the image's files (its layers merged) */
  layer: string;
  /** an empty directory of this run: the root tmpfs, the -init layer, overlay work directories */
  scratch: string;
  binds: Bind[];
  tmpfs: string[];
  /** a build step (RUN): the root is writable and its writes land in this directory, a new layer */
  newLayer?: string;
}

// the top-level directories of a Debian image's root taken from the host's (the rest of the host, such
// as the repository's checkout, is no part of the container); /dev, /proc, /sys and /tmp are mounted afresh
const DEBIAN_ROOT = new Set([
  'bin',
  'boot',
  'etc',
  'home',
  'lib',
  'lib64',
  'media',
  'mnt',
  'opt',
  'root',
  'run',
  'sbin',
  'srv',
  'usr',
  'var',
]);
const SPECIAL = new Set(['dev', 'proc', 'sys', 'tmp']);

const q = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

const kind = (path: string) => {
  try {
    const s = lstatSync(path);
    return s.isSymbolicLink() ? 'link' : s.isDirectory() ? 'dir' : 'file';
  } catch {
    return undefined;
  }
};

/** A directory made with the owner and mode of `like`: the root of an overlay takes its upper layer's. */
function mkdirLike(path: string, like: string) {
  mkdirSync(path, { recursive: true });
  const s = lstatSync(like);
  chownSync(path, s.uid, s.gid);
  chmodSync(path, s.mode & 0o7777);
}

// what root keeps in a Docker container (its default capability set); any other user keeps nothing
const DOCKER_ROOT_CAPS =
  'chown,dac_override,fowner,fsetid,kill,setgid,setuid,setpcap,net_bind_service,net_raw,sys_chroot,mknod,audit_write,setfcap';

/** The user switch and clean environment every process of the container starts through (run and exec). */
export function enter(p: ContainerProcess): string[] {
  const keep =
    p.uid === 0
      ? DOCKER_ROOT_CAPS.split(',')
          .map((c) => `,+${c}`)
          .join('')
      : '';
  return [
    '/usr/bin/env',
    '-i',
    ...Object.entries(p.env).map(([k, v]) => `${k}=${v}`),
    '/usr/bin/setpriv',
    `--reuid=${p.uid}`,
    `--regid=${p.gid}`,
    '--clear-groups',
    '--inh-caps=-all',
    `--bounding-set=-all${keep}`,
    ...p.argv,
  ];
}

/** The `unshare` command line that runs `p` in the container `spec` describes (exec'd: the same pid). */
export function containerCommand(spec: RootSpec, p: ContainerProcess): string[] {
  const root = join(spec.scratch, 'root');
  const init = join(spec.scratch, 'init');
  const lines = ['set -e', `mkdir -p ${q(root)}`, `mount -t tmpfs -o mode=0755 tmpfs ${q(root)}`];
  // the -init layer: a mountpoint for each -v target outside every other one (those inside another
  // mount are made in it, as Docker does, once that one is mounted)
  const targets = spec.binds.map((b) => b.target);
  const outer = spec.binds.filter((b) => !targets.some((t) => t !== b.target && b.target.startsWith(`${t}/`)));
  for (const b of outer) {
    const at = join(init, b.target);
    mkdirSync(kind(b.source) === 'file' ? dirname(at) : at, { recursive: true });
    if (kind(b.source) === 'file') writeFileSync(at, '');
  }
  // an overlay's root directory shows its top layer's owner and mode: keep the image's (else the host's)
  for (const name of existsSync(init) ? readdirSync(init) : []) {
    const like = [join(spec.layer, name), join('/', name)].find((d) => kind(d) === 'dir');
    if (like) mkdirLike(join(init, name), like);
  }
  const names = new Set([
    ...readdirSync('/').filter((name) => DEBIAN_ROOT.has(name)),
    ...readdirSync(spec.layer),
    ...(existsSync(init) ? readdirSync(init) : []),
  ]);
  for (const name of [...names].sort()) {
    if (SPECIAL.has(name)) continue;
    const at = q(join(root, name));
    const host = join('/', name);
    if (DEBIAN_ROOT.has(name) && kind(host) === 'link') {
      lines.push(`ln -s ${q(readlinkSync(host))} ${at}`);
      continue;
    }
    const lowers = [join(init, name), join(spec.layer, name), ...(DEBIAN_ROOT.has(name) ? [host] : [])].filter(
      (d) => kind(d) === 'dir',
    );
    if (!lowers.length) continue;
    lines.push(`mkdir ${at}`);
    if (spec.newLayer) {
      const upper = join(spec.newLayer, name);
      const work = join(spec.scratch, 'work', name);
      mkdirLike(upper, lowers[0]!);
      mkdirSync(work, { recursive: true });
      lines.push(
        `mount -t overlay overlay -o ${q(`lowerdir=${lowers.join(':')},upperdir=${upper},workdir=${work}`)} ${at}`,
      );
    } else if (lowers.length > 1) lines.push(`mount -t overlay overlay -o ${q(`lowerdir=${lowers.join(':')}`)} ${at}`);
    else lines.push(`mount --bind -o ro ${q(lowers[0]!)} ${at}`);
  }
  const at = (path: string) => q(join(root, path));
  lines.push(
    `mkdir ${at('dev')} ${at('proc')} ${at('sys')} ${at('tmp')}`,
    `mount --rbind /dev ${at('dev')}`,
    `mount -t proc proc ${at('proc')}`,
    `mount --rbind /sys ${at('sys')}`,
    `mount -o remount,bind,ro ${at('sys')}`,
  );
  for (const path of spec.tmpfs) lines.push(`mount -t tmpfs -o mode=1777,nosuid,nodev,noexec tmpfs ${at(path)}`);
  for (const b of spec.binds) {
    if (!outer.includes(b))
      lines.push(kind(b.source) === 'file' ? `touch ${at(b.target)}` : `mkdir -p ${at(b.target)}`);
    lines.push(`mount --bind ${b.readOnly ? '-o ro ' : ''}${q(b.source)} ${at(b.target)}`);
  }
  lines.push(`mount -o remount,ro ${q(root)}`);
  const run = ['unshare', `--root=${root}`, `--wd=${p.workdir}`, ...enter(p)].map(q).join(' ');
  lines.push(spec.newLayer ? run : `exec ${run}`);
  return ['unshare', '--mount', '--propagation', 'private', '/bin/sh', '-c', lines.join('\n')];
}

/** `nsenter` into a running container's mounts, root and working directory: `docker exec`. */
export function execCommand(pid: number, p: ContainerProcess): string[] {
  return ['nsenter', `--target=${pid}`, '--mount', '--root', '--wd', ...enter(p)];
}

/** Why this machine cannot run the emulation (not root, no mount namespace, no overlayfs), or undefined. */
export function unsupported(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root: a private mount namespace and its mounts need root';
  const dir = mkdtempSync(join(tmpdir(), 'vpm-rootfs-probe-'));
  try {
    mkdirSync(join(dir, 'a'));
    mkdirSync(join(dir, 'b'));
    const probe = `mount -t tmpfs tmpfs ${q(join(dir, 'a'))} && mount -t overlay overlay -o lowerdir=${q(join(dir, 'a'))}:/usr ${q(join(dir, 'b'))} && command -v nsenter setpriv >/dev/null`;
    execFileSync('unshare', ['--mount', '--propagation', 'private', '/bin/sh', '-c', probe], { stdio: 'pipe' });
    return undefined;
  } catch (err) {
    const stderr = String((err as { stderr?: Buffer }).stderr ?? '').trim();
    return `cannot mount in a private mount namespace (unshare -m, tmpfs, overlayfs, nsenter, setpriv): ${stderr || (err as Error).message}`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
