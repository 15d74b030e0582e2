// A provider's answer before anything in it is trusted: how long its fields may be, and the digest that
// stands for it in the audit log (the answer itself may carry personal data).
import { createHash } from 'node:crypto';
import type { ProviderAdapter } from '../broker/adapter.ts';

/** Longest callback field value when the adapter declares no limit: far above anything banklink or
 * OpenID Connect send (a VK_MAC of an 8192-bit key, an authorization code, a state). */
export const DEFAULT_FIELD_LIMIT = 4096;
const MAX_FIELD_NAME = 100;

export interface OversizedField {
  name: string;
  limit: number;
}

/** The first callback field longer than the adapter allows, if any. */
export function oversizedField(adapter: ProviderAdapter, params: Record<string, string>): OversizedField | undefined {
  const limits = adapter.callbackFieldLimits ?? {};
  for (const [name, value] of Object.entries(params)) {
    // own keys only: a field named `constructor` would otherwise get Object.prototype's function as its limit
    const limit = (Object.hasOwn(limits, name) ? limits[name] : undefined) ?? limits['*'] ?? DEFAULT_FIELD_LIMIT;
    // the name is the sender's too: quoted only when it looks like a protocol field name
    const shown = /^[A-Za-z0-9_.-]{1,40}$/.test(name) ? name : 'with an unexpected name';
    if (name.length > MAX_FIELD_NAME) return { name: shown, limit: MAX_FIELD_NAME };
    if (value.length > limit) return { name: shown, limit };
  }
  return undefined;
}

export function describeOversized(field: OversizedField): string {
  return `field ${field.name} longer than ${field.limit} characters`;
}

/** The longest field any of these adapters accepts in a callback. */
export function longestFieldLimit(adapters: Iterable<ProviderAdapter>): number {
  let longest = DEFAULT_FIELD_LIMIT;
  for (const adapter of adapters)
    for (const limit of Object.values(adapter.callbackFieldLimits ?? {})) longest = Math.max(longest, limit);
  return longest;
}

export function digest(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return `sha256:${createHash('sha256').update(text).digest('base64url')}`;
}
