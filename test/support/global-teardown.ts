import type { ChildProcess } from 'node:child_process';

export default async function globalTeardown(): Promise<void> {
  const child = (globalThis as { __vpmRedis?: ChildProcess }).__vpmRedis;
  if (child) child.kill('SIGTERM');
}
