// The Dockerfile read the way `docker build` reads it, as far as the image emulation needs: its stages and,
// in order, the instructions that shape the final image. Anything this reader does not understand is an
// error naming the line, so a change to the Dockerfile is either emulated or refused, never ignored.

/** One instruction: its keyword, its flags (`--from=deps`) and its arguments (exec form as a list). */
export interface Instruction {
  line: number;
  keyword: string;
  flags: Record<string, string>;
  /** exec form (a JSON array) or the words of the shell form */
  args: string[];
  /** the text after the keyword and flags, as written */
  text: string;
  /** whether the arguments were a JSON array */
  exec: boolean;
}

export interface Stage {
  from: string;
  name: string | undefined;
  instructions: Instruction[];
}

/** What a container of the image starts with (Docker's image config). */
export interface ImageConfig {
  workdir: string;
  env: Record<string, string>;
  user: string;
  volumes: string[];
  entrypoint: string[];
  cmd: string[];
  /** the HEALTHCHECK test as Docker runs it (shell form through /bin/sh -c) */
  healthcheck: string[] | undefined;
  stopSignal: NodeJS.Signals;
}

// the instructions this reader knows, with the flags each may carry; the rest (ADD, ARG, SHELL, ONBUILD,
// RUN --mount, COPY --link, ...) are refused
const KNOWN: Record<string, string[]> = {
  FROM: [],
  WORKDIR: [],
  COPY: ['from', 'chown'],
  RUN: [],
  ENV: [],
  USER: [],
  VOLUME: [],
  EXPOSE: [],
  LABEL: [],
  HEALTHCHECK: ['interval', 'timeout', 'start-period', 'start-interval', 'retries'],
  ENTRYPOINT: [],
  CMD: [],
  STOPSIGNAL: [],
};

export class UnsupportedDockerfile extends Error {
  override name = 'UnsupportedDockerfile';
}

function logicalLines(text: string): { line: number; text: string }[] {
  const out: { line: number; text: string }[] = [];
  let current: { line: number; text: string } | undefined;
  text.split('\n').forEach((raw, i) => {
    const trimmed = raw.trim();
    // comment lines end nothing: Docker drops them, even inside a continued instruction
    if (trimmed.startsWith('#') || (!trimmed && !current)) return;
    const continued = trimmed.endsWith('\\');
    const part = continued ? trimmed.slice(0, -1) : trimmed;
    if (current) current.text += ` ${part}`;
    else current = { line: i + 1, text: part };
    if (!continued) {
      out.push(current);
      current = undefined;
    }
  });
  if (current) out.push(current);
  return out;
}

function parseInstruction(line: number, text: string): Instruction {
  const keyword = /^\S+/.exec(text)![0].toUpperCase();
  const allowed = Object.hasOwn(KNOWN, keyword) ? KNOWN[keyword] : undefined;
  if (!allowed) throw new UnsupportedDockerfile(`Dockerfile:${line}: ${keyword} is not emulated`);
  let rest = text.slice(keyword.length).trim();
  const flags: Record<string, string> = {};
  for (let flag = /^--([a-z-]+)(?:=(\S+))?\s*/.exec(rest); flag; flag = /^--([a-z-]+)(?:=(\S+))?\s*/.exec(rest)) {
    if (!allowed.includes(flag[1]!) || flag[2] === undefined)
      throw new UnsupportedDockerfile(`Dockerfile:${line}: ${keyword} --${flag[1]} is not emulated`);
    flags[flag[1]!] = flag[2];
    rest = rest.slice(flag[0].length);
  }
  if (rest.startsWith('[')) {
    const args = JSON.parse(rest) as unknown;
    if (!Array.isArray(args) || !args.every((a) => typeof a === 'string'))
      throw new UnsupportedDockerfile(`Dockerfile:${line}: ${keyword}: the exec form must be an array of strings`);
    return { line, keyword, flags, args, text: rest, exec: true };
  }
  return { line, keyword, flags, args: rest.split(/\s+/).filter(Boolean), text: rest, exec: false };
}

export function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = [];
  for (const { line, text: t } of logicalLines(text)) {
    const instruction = parseInstruction(line, t);
    if (instruction.keyword === 'FROM') {
      const [from, as, name] = instruction.args;
      if (!from || (as && (as.toUpperCase() !== 'AS' || !name)))
        throw new UnsupportedDockerfile(`Dockerfile:${line}: FROM image [AS name]`);
      stages.push({ from, name, instructions: [] });
    } else if (!stages.length)
      throw new UnsupportedDockerfile(`Dockerfile:${line}: ${instruction.keyword} before FROM`);
    else stages.at(-1)!.instructions.push(instruction);
  }
  if (!stages.length) throw new UnsupportedDockerfile('Dockerfile: no FROM');
  return stages;
}

/** A value without variables: the emulation does not expand `$NAME`, so it refuses one rather than guess. */
export function literal(instruction: Instruction, value: string): string {
  if (value.includes('$'))
    throw new UnsupportedDockerfile(
      `Dockerfile:${instruction.line}: ${instruction.keyword}: variables are not emulated`,
    );
  return value;
}

/** `ENV A=1 B="two words"` (and the old `ENV A value`) as pairs. */
export function envPairs(instruction: Instruction): [string, string][] {
  const text = literal(instruction, instruction.text);
  const old = /^([A-Za-z_][A-Za-z0-9_]*)\s+([^=]*)$/.exec(text);
  if (old) return [[old[1]!, old[2]!.trim()]];
  const pairs: [string, string][] = [];
  const pair = /([A-Za-z_][A-Za-z0-9_]*)=("(?:[^"\\]|\\.)*"|\S*)\s*/gy;
  let at = 0;
  for (let m = pair.exec(text); m && at < text.length; m = pair.exec(text)) {
    const value = m[2]!.startsWith('"') ? (JSON.parse(m[2]!) as string) : m[2]!;
    pairs.push([m[1]!, value]);
    at = pair.lastIndex;
  }
  if (at !== text.length)
    throw new UnsupportedDockerfile(`Dockerfile:${instruction.line}: ENV ${text}: not understood`);
  return pairs;
}

/** ENTRYPOINT, CMD and RUN: the exec form as written, the shell form through /bin/sh -c. */
export function command(instruction: Instruction): string[] {
  return instruction.exec ? instruction.args : ['/bin/sh', '-c', instruction.text];
}

/** The HEALTHCHECK's test command (its CMD, the shell form through /bin/sh -c), or undefined for NONE. */
export function healthcheck(instruction: Instruction): string[] | undefined {
  if (/^NONE$/i.test(instruction.text)) return undefined;
  const cmd = /^CMD\s+([\s\S]*)$/i.exec(instruction.text)?.[1];
  if (!cmd) throw new UnsupportedDockerfile(`Dockerfile:${instruction.line}: HEALTHCHECK [options] CMD command`);
  return cmd.startsWith('[') ? (JSON.parse(cmd) as string[]) : ['/bin/sh', '-c', cmd];
}
