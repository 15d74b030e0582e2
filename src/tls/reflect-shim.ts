// @peculiar/x509 pulls in tsyringe, which refuses to load without the Reflect metadata API
// (normally the `reflect-metadata` package, not installed here). tsyringe only uses getMetadata,
// getOwnMetadata and defineMetadata on classes, so this minimal stand-in suffices. It installs itself
// only when no real polyfill is present. Replace with `import 'reflect-metadata'` once that is a dependency.
type Target = object;
const store = new WeakMap<Target, Map<unknown, unknown>>();

interface ReflectMetadata {
  defineMetadata(key: unknown, value: unknown, target: Target): void;
  getOwnMetadata(key: unknown, target: Target): unknown;
  getMetadata(key: unknown, target: Target): unknown;
}

const R = Reflect as unknown as Partial<ReflectMetadata>;
if (typeof R.getMetadata !== 'function') {
  R.defineMetadata = (key, value, target) => {
    const map = store.get(target) ?? new Map();
    store.set(target, map);
    map.set(key, value);
  };
  R.getOwnMetadata = (key, target) => store.get(target)?.get(key);
  R.getMetadata = (key, target) => {
    // walk the prototype chain like reflect-metadata does
    for (let t: Target | null = target; t; t = Object.getPrototypeOf(t) as Target | null) {
      const map = store.get(t);
      if (map?.has(key)) return map.get(key);
    }
    return undefined;
  };
}
export {};
