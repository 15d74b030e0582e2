// The interleaving in which requests carrying one JWT (a client assertion, a DPoP proof) all find its id unused:
// the engine looks a JWT id up (ReplayDetection.find), then records it (upsert). Through the store the gateway is
// given, the first record of an id is held until a second request has looked the same id up, so both have
// passed the look-up before either records: what concurrent replays may do, made certain, not hoped for.
import type { Store } from '../../src/store/store.ts';

const JWT_IDS = 'oidc:ReplayDetection:';

export interface JtiRace<S extends Store> {
  /** the store to give the gateway */
  store: S;
  /** hold the next JWT id's first record until a second look-up of it (once) */
  arm(): void;
  /** whether the last armed race happened: a second look-up came while the first record was held */
  readonly happened: boolean;
}

export function jtiRace<S extends Store>(inner: S): JtiRace<S> {
  let armed = false;
  let happened = false;
  const lookUps = new Map<string, number>();
  let held: { key: string; release: () => void } | undefined;
  const raced = (key: string) => {
    if (held?.key !== key || (lookUps.get(key) ?? 0) < 2) return;
    happened = true;
    held.release();
  };
  // the first record of an id, create-only or not: released by the second look-up; after 10 s regardless, so a
  // request refused before its look-up leaves the race not happened (asserted) rather than a test that hangs
  const record = async (key: string) => {
    if (!armed || held || !key.startsWith(JWT_IDS)) return;
    await new Promise<void>((release) => {
      const timer = setTimeout(release, 10_000);
      held = {
        key,
        release: () => {
          clearTimeout(timer);
          release();
        },
      };
      raced(key);
    });
    armed = false;
  };
  const store = new Proxy(inner, {
    get(target, name) {
      if (name === 'get')
        return async (key: string) => {
          if (!armed || !key.startsWith(JWT_IDS)) return target.get(key);
          lookUps.set(key, (lookUps.get(key) ?? 0) + 1);
          // this look-up is answered (the id unused) before the held record goes
          const found = await target.get(key);
          raced(key);
          return found;
        };
      if (name === 'setIfAbsent' || name === 'set')
        return async (key: string, value: string, ttl: number) => {
          await record(key);
          return target[name](key, value, ttl);
        };
      const value: unknown = Reflect.get(target, name, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return {
    store,
    arm() {
      armed = true;
      happened = false;
      held = undefined;
      lookUps.clear();
    },
    get happened() {
      return happened;
    },
  };
}
