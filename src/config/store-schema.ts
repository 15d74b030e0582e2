// The `store` section: the in-memory store, or Redis (one server, Sentinel or Cluster). Its checks name the
// field and never quote the URL, which may carry the password.
import { z } from 'zod';
import { readableFile, secretSchema } from './secret.ts';
import { parseRedisUrl } from '../store/redis-url.ts';
import { DEFAULT_MAX_BYTES } from '../store/memory.ts';

/** Redis: one server, Sentinel or Cluster, chosen by the URL's scheme (src/store/redis-url.ts). */
const redisStoreSchema = z
  .strictObject({
    type: z.literal('redis'),
    url: secretSchema,
    prefix: z
      .string()
      .regex(/^[A-Za-z0-9:_-]{1,32}$/)
      .default('vpm:'),
    /** the data nodes' ACL user and password (override those in the URL) */
    username: secretSchema.optional(),
    password: secretSchema.optional(),
    /** the Sentinels' own password (their requirepass) */
    sentinel_password: secretSchema.optional(),
    /** CA certificate (PEM) of the Redis servers, for rediss; default: the system's CAs */
    ca: readableFile.optional(),
    /** the gateway's client certificate and key (PEM), for servers that demand one (mutual TLS; both or neither) */
    cert: readableFile.optional(),
    key: readableFile.optional(),
    /** replicas that must hold a write before it counts (WAIT); default 1 with Sentinel, 0 otherwise */
    wait_replicas: z.number().int().min(0).max(5).optional(),
    wait_timeout_ms: z.number().int().min(10).max(5000).default(500),
    command_timeout_ms: z.number().int().min(100).max(30000).default(2000),
    connect_timeout_ms: z.number().int().min(100).max(30000).default(2000),
  })
  .superRefine((store, ctx) => {
    let mode: string;
    let tls: boolean;
    try {
      ({ mode, tls } = parseRedisUrl(store.url));
    } catch (err) {
      // the message never quotes the URL: it may carry the password
      ctx.addIssue({ code: 'custom', path: ['url'], message: (err as Error).message });
      return;
    }
    if ((store.cert === undefined) !== (store.key === undefined)) {
      const missing = store.cert === undefined ? 'cert' : 'key';
      ctx.addIssue({
        code: 'custom',
        path: [missing],
        message: `cert and key go together (mutual TLS); give ${missing} as well, or neither`,
      });
    }
    // TLS settings with a plain redis:// URL would be ignored: the operator would believe the link encrypted
    if (!tls)
      for (const field of ['ca', 'cert', 'key'] as const)
        if (store[field] !== undefined)
          ctx.addIssue({ code: 'custom', path: [field], message: 'needs a rediss:// url (TLS)' });
    if (mode === 'cluster' && (store.wait_replicas ?? 0) > 0)
      ctx.addIssue({
        code: 'custom',
        path: ['wait_replicas'],
        message: 'is not available on Cluster: WAIT must reach the node that took the write',
      });
    if (mode !== 'sentinel' && store.sentinel_password !== undefined)
      ctx.addIssue({ code: 'custom', path: ['sentinel_password'], message: 'needs a redis+sentinel:// url' });
    if ((store.wait_replicas ?? (mode === 'sentinel' ? 1 : 0)) > 0 && store.wait_timeout_ms >= store.command_timeout_ms)
      ctx.addIssue({ code: 'custom', path: ['wait_timeout_ms'], message: 'must be below command_timeout_ms' });
  });

/** The in-memory store of one process: at most `max_bytes` (keys and values, plus a fixed cost per entry);
 * beyond, writes are refused as a full Redis refuses them (src/store/memory.ts). */
const memoryStoreSchema = z.strictObject({
  type: z.literal('memory'),
  max_bytes: z
    .number()
    .int()
    .min(64 * 1024)
    .max(64 * 1024 ** 3)
    .default(DEFAULT_MAX_BYTES),
});

export const storeSchema = z.discriminatedUnion('type', [memoryStoreSchema, redisStoreSchema]);
