// What the `keys` commands share: the configuration, the key source it names, and how a refusal is told.
import type { GatewayConfig } from '../config/load.ts';
import { dirSource, storeSource, type KeySource } from '../keys/key-source.ts';
import { KeyMaterialError } from '../keys/material.ts';
import { type KeyChange, RotationRefused } from '../keys/key-set.ts';
import { RedisStore } from '../store/redis.ts';
import { EXIT_FAILED, type Io } from './command.ts';
import { configPath, loadCommandConfig } from './gateway-config.ts';

export const iso = (seconds: number) => new Date(seconds * 1000).toISOString();

/** The keys a change added, as the commands report them. */
export function addedKeys(change: KeyChange): { kind: 'token' | 'cookie'; alg: string | null; id: string }[] {
  return [
    ...change.added.token.map((k) => ({ kind: 'token' as const, alg: k.alg, id: k.kid })),
    ...change.added.cookie.map((k) => ({ kind: 'cookie' as const, alg: null, id: k.id })),
  ];
}

/** A key as the commands name it in their lines: `token key KID (ES256)`, `cookie key ID`. */
export const keyName = (k: { kind: string; alg: string | null; id: string }) =>
  `${k.kind} key ${k.id}${k.alg ? ` (${k.alg})` : ''}`;

/** The gateway configuration, or undefined after printing why it is invalid. */
export function configOf(values: { config?: string | undefined }, io: Io): { path: string; config?: GatewayConfig } {
  const path = configPath(values.config);
  const config = loadCommandConfig(path, io);
  return config ? { path, config } : { path };
}

/** Runs `fn` on the configured key source; with `keys.source: store` the command connects to the store for it. */
export async function withSource<T>(config: GatewayConfig, fn: (source: KeySource) => Promise<T>): Promise<T> {
  // the schema allows keys.source store only with a Redis store
  if (config.keys.source !== 'store' || config.store.type !== 'redis') return fn(dirSource(config.keys.dir));
  const store = new RedisStore(config.store);
  try {
    return await fn(storeSource(store));
  } finally {
    await store.close();
  }
}

/** A broken key set or a refused rotation: one line naming where the keys are, exit 1. */
export function failed(io: Io, path: string, err: unknown): number {
  if (!(err instanceof KeyMaterialError || err instanceof RotationRefused)) throw err;
  io.stderr(`${path}: ${err.message}\n`);
  return EXIT_FAILED;
}
