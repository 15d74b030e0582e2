// The base image `FROM node:<major>-...` without a registry: the host's root stands for the image's Debian,
// with the repository's own Node binary (of the same major) at /usr/local/bin/node and the image's `node`
// user (1000:1000, /home/node) in /etc/passwd and /etc/group; and USER resolved the way Docker does.
import { execFileSync } from 'node:child_process';
import { chownSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { UnsupportedDockerfile } from './dockerfile.ts';

// what a container gets when its image sets no PATH (Docker's default)
const DOCKER_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const NODE_USER = { name: 'node', uid: 1000, gid: 1000, home: '/home/node' };

/** Hard links of `paths` (relative to `from`) under `to`, copies across filesystems. */
export function link(from: string, paths: string[], to: string) {
  try {
    execFileSync('cp', ['-al', '--parents', ...paths, to], { cwd: from, stdio: 'pipe' });
  } catch {
    execFileSync('cp', ['-a', '--parents', ...paths, to], { cwd: from, stdio: 'pipe' });
  }
}

/** FROM node:<major>-...: the host's root as that image's Debian, with the repository's Node and the node user. */
export function baseImage(from: string, layer: string): Record<string, string> {
  const major = /^node:(\d+)(?:[.-]|$)/.exec(from)?.[1];
  const node = realpathSync(resolve(import.meta.dirname, '../../node_modules/.bin/node'));
  const version = execFileSync(node, ['-p', 'process.versions.node'], { encoding: 'utf8' }).trim();
  if (!major || version.split('.')[0] !== major)
    throw new UnsupportedDockerfile(
      `FROM ${from}: only node:<major> images are emulated, with this repository's Node ${version}`,
    );
  mkdirSync(join(layer, 'etc'), { recursive: true });
  for (const [file, entry] of [
    ['passwd', `${NODE_USER.name}:x:${NODE_USER.uid}:${NODE_USER.gid}::${NODE_USER.home}:/bin/bash`],
    ['group', `${NODE_USER.name}:x:${NODE_USER.gid}:`],
  ] as const) {
    const id = String(file === 'passwd' ? NODE_USER.uid : NODE_USER.gid);
    const host = readFileSync(join('/etc', file), 'utf8')
      .split('\n')
      .filter((l) => l && l.split(':')[0] !== NODE_USER.name && l.split(':')[2] !== id);
    writeFileSync(join(layer, 'etc', file), `${[...host, entry].join('\n')}\n`);
  }
  mkdirSync(join(layer, NODE_USER.home), { recursive: true });
  chownSync(join(layer, NODE_USER.home), NODE_USER.uid, NODE_USER.gid);
  mkdirSync(join(layer, 'usr/local/bin'), { recursive: true });
  link(dirname(node), [basename(node)], join(layer, 'usr/local/bin'));
  return { PATH: DOCKER_PATH, NODE_VERSION: version };
}

/** `USER name[:group]` as uid, gid and home, from the image's /etc/passwd and /etc/group. */
export function resolveUser(layer: string, user: string): { uid: number; gid: number; home: string } {
  const table = (file: string) =>
    readFileSync(join(layer, 'etc', file), 'utf8')
      .split('\n')
      .map((l) => l.split(':'));
  const [name, group] = user.split(':') as [string, string | undefined];
  const entry = table('passwd').find((f) => f[0] === name || f[2] === name);
  if (!entry && !/^\d+$/.test(name)) throw new UnsupportedDockerfile(`USER ${user}: no such user in the image`);
  const gidOf = (g: string) => {
    const found = table('group').find((f) => f[0] === g || f[2] === g)?.[2] ?? (/^\d+$/.test(g) ? g : undefined);
    if (found === undefined) throw new UnsupportedDockerfile(`USER ${user}: no such group in the image`);
    return Number(found);
  };
  return {
    uid: Number(entry?.[2] ?? name),
    gid: group ? gidOf(group) : Number(entry?.[3] ?? 0),
    home: entry?.[5] || '/',
  };
}
