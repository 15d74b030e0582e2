// The `registry` block of the gateway configuration: where the providers' joining records live and the
// process settings that are the agency's to choose.
import { z } from 'zod';

export const registryConfigSchema = z.strictObject({
  /** one `<id>.yaml` record per provider (src/onboarding/record.ts) */
  dir: z.string().min(1),
  /** a move to production needs a successful test login at most this old */
  test_login_max_age_days: z.number().int().min(1).max(365).default(30),
  /** how often each instance looks for registry changes (a suspension takes effect within this) */
  poll_seconds: z.number().int().min(1).max(60).default(1),
});

export type RegistryConfig = z.infer<typeof registryConfigSchema>;
