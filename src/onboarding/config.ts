// The `registry` block of the gateway configuration: where the providers' joining records live and the
// process settings that are the agency's to choose.
import { dirname, isAbsolute, join } from 'node:path';
import { z } from 'zod';

export const registryConfigSchema = z.strictObject({
  /** one `<id>.yaml` record per provider (src/onboarding/record.ts); relative to the configuration file */
  dir: z.string().min(1),
  /** a move to production needs a successful test login at most this old */
  test_login_max_age_days: z.number().int().min(1).max(365).default(30),
  /** how often each instance looks for registry changes (a suspension takes effect within this) */
  poll_seconds: z.number().int().min(1).max(60).default(1),
});

export type RegistryConfig = z.infer<typeof registryConfigSchema>;

/** The records live beside the configuration they govern, wherever the gateway is started from. */
export function registryDir(config: { path: string; registry?: RegistryConfig | undefined }): string {
  const dir = config.registry!.dir;
  return isAbsolute(dir) ? dir : join(dirname(config.path), dir);
}
