// Jest runs tests in a vm context but hands them Node's own structuredClone, whose clones are built
// in the outer realm. node-oidc-provider clones static client metadata with it and then checks
// `value.constructor === Object`, which fails across realms (inline client JWKS are refused under Jest
// only). This realm-local clone keeps the engine's behaviour identical to production.
function cloneInRealm<T>(value: T, seen = new Map<unknown, unknown>()): T {
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value)) return seen.get(value) as T;
  if (value instanceof Date) return new Date(value.getTime()) as T;
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return nativeClone(value);
  if (value instanceof Map) {
    const out = new Map();
    seen.set(value, out);
    for (const [k, v] of value) out.set(cloneInRealm(k, seen), cloneInRealm(v, seen));
    return out as T;
  }
  if (value instanceof Set) {
    const out = new Set();
    seen.set(value, out);
    for (const v of value) out.add(cloneInRealm(v, seen));
    return out as T;
  }
  const out: Record<string, unknown> | unknown[] = Array.isArray(value) ? [] : {};
  seen.set(value, out);
  for (const [k, v] of Object.entries(value)) (out as Record<string, unknown>)[k] = cloneInRealm(v, seen);
  return out as T;
}

const nativeClone = globalThis.structuredClone;
globalThis.structuredClone = ((value: unknown) => cloneInRealm(value)) as typeof structuredClone;
