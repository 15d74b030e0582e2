// The key set a starting instance runs with: read from `keys.dir` or the store (`keys.source`), created
// there on first start outside production only (production never generates keys silently), checked
// against what the other instances on the same store run, then reloaded every `keys.reload_interval` s;
// after each reload it is announced again and compared with the others' (./agreement-verdict.ts).
import { randomUUID } from 'node:crypto';
import type { GatewayConfig } from '../config/load.ts';
import type { Logger } from '../logger.ts';
import { isStoreUnavailable, type Store } from '../store/store.ts';
import { SecurityCheckError } from '../tls/security-checks.ts';
import { announce, disagreeing, withdraw } from './agreement.ts';
import { AgreementWatch, judge, type KeyAgreement } from './agreement-verdict.ts';
import { keySource } from './key-source.ts';
import { KeyRing, NoKeySet, type KeyView } from './key-ring.ts';
import { initKeys, nowSeconds, retireAfter } from './key-set.ts';

export interface RunningKeys {
  ring: KeyRing;
  /** this instance's id in the store's roster */
  instance: string;
  /** what the periodic reload does: reload the key set now, announce it and compare it with the others' */
  refresh(): Promise<KeyView>;
  /** whether the other live instances run the same key set, as of the last reload (readiness, metrics) */
  agreement(): KeyAgreement;
  /** stop reloading and leave the roster */
  close(): Promise<void>;
}

export const INIT_COMMAND = 'vpm-gateway keys init';

/** Roster entries older than this many reload intervals belong to stopped instances. */
const STALE_INTERVALS = 3;

function refuse(config: GatewayConfig, message: string): SecurityCheckError {
  return new SecurityCheckError([`${config.keys.source === 'store' ? 'keys.source' : 'keys.dir'}: ${message}`]);
}

export async function openKeys(config: GatewayConfig, deps: { store: Store; logger: Logger }): Promise<RunningKeys> {
  const { reload_interval: interval } = config.keys;
  const source = keySource(config, deps.store);
  const where = source.where;
  const logger = deps.logger.child({ component: 'keys' });
  if (!config.production) {
    const { created } = await initKeys(source, nowSeconds());
    if (created)
      logger.warn('generated a new key set (development only; production refuses to start without one)', { where });
  }
  let ring: KeyRing;
  try {
    ring = await KeyRing.open({
      load: () => source.read(),
      retireAfter: retireAfter(config),
      staticCookies: config.cookie_keys,
      now: nowSeconds,
      logger,
    });
  } catch (err) {
    // a store that cannot be reached says so itself (keys.source: store), like every other start on it
    if (isStoreUnavailable(err)) throw err;
    if (err instanceof NoKeySet)
      throw refuse(
        config,
        `no key set in ${where}; create it once with "${INIT_COMMAND} --config ${config.path}" and give every instance the same one`,
      );
    throw refuse(config, (err as Error).message);
  }
  const instance = randomUUID();
  const staleAfter = STALE_INTERVALS * interval;
  // since when this instance runs the set it announces: a disagreement counts once it outlasts a reload
  let running = { digest: ring.view.digest, since: nowSeconds() };
  const entry = (view: KeyView, now: number) => {
    if (view.digest !== running.digest) running = { digest: view.digest, since: now };
    return { instance, digest: view.digest, generation: view.generation, since: running.since, now, staleAfter };
  };
  const others = await announce(deps.store, entry(ring.view, nowSeconds()));
  const differ = disagreeing(others, ring.view.digest);
  if (differ.length) {
    await withdraw(deps.store, instance, nowSeconds(), staleAfter);
    throw refuse(
      config,
      `the key set in ${where} (${ring.view.digest}) differs from the one ${differ.length} running instance(s) use (${[
        ...new Set(differ.map(([, d]) => d)),
      ].join(
        ', ',
      )}); every instance needs the same key set (a rotated set reaches running instances within keys.reload_interval)`,
    );
  }
  logger.info('key set loaded', { digest: ring.view.digest, instances: Object.keys(others).length + 1 });
  const watch = new AgreementWatch(logger);
  const announceView = async (view: KeyView) => {
    try {
      const own = entry(view, nowSeconds());
      const live = await announce(deps.store, own);
      watch.update(judge({ ...own, seen: own.now }, live, own.now, interval), view.digest);
    } catch (err) {
      logger.error('key set announcement failed', { error: (err as Error).name, message: (err as Error).message });
    }
  };
  ring.start(interval, announceView);
  return {
    ring,
    instance,
    async refresh() {
      const view = await ring.reload();
      await announceView(view);
      return view;
    },
    agreement: () => watch.status,
    async close() {
      ring.stop();
      await withdraw(deps.store, instance, nowSeconds(), staleAfter).catch(() => undefined);
    },
  };
}
