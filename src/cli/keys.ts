// `vpm-gateway keys init | rotate | status`: the token and cookie keys in `keys.dir` (or, with
// `keys.source: store`, in the Redis store), shared by every instance. `init` creates the first key set (production never generates one at start); `rotate` adds
// the next keys, published at once and signing only after `keys.publish_delay` seconds; `status` shows
// each key's phase. Running instances pick changes up within `keys.reload_interval` seconds.
import { manifestDigest, placeAll, type Placed, type ManifestEntry } from '../keys/lifecycle.ts';
import { initKeys, nowSeconds, retireAfter, rotateKeys } from '../keys/key-set.ts';
import { command, emit, EXIT_FAILED, EXIT_OK, group, UsageError } from './command.ts';
import { addedKeys, configOf, failed, iso, keyName, withSource } from './keys-context.ts';

interface KeyLine {
  kind: 'token' | 'cookie';
  alg: string | null;
  id: string;
  phase: string;
  created: string;
  activates: string;
  until: string | null;
}

function lines(placed: Placed<ManifestEntry & { alg?: string }>[], kind: KeyLine['kind']): KeyLine[] {
  return placed.map(({ entry, phase, until }) => ({
    kind,
    alg: entry.alg ?? null,
    id: entry.id,
    phase,
    created: iso(entry.created),
    activates: iso(entry.activates),
    until: until === undefined ? null : iso(until),
  }));
}

function table(keys: KeyLine[]): string {
  return keys
    .map((k) => {
      const when =
        k.phase === 'next'
          ? `signs from ${k.activates}`
          : k.phase === 'current'
            ? `signs since ${k.activates}`
            : `${k.phase === 'retired' ? 'published until' : 'unpublished since'} ${k.until}`;
      return `  ${`${k.kind} ${k.alg ?? ''}`.padEnd(13)}${k.id.padEnd(45)}${k.phase.padEnd(9)}${when}\n`;
    })
    .join('');
}

const init = command({
  name: 'keys init',
  synopsis: '[options]',
  summary:
    'Creates the key set in keys.dir (keys.source: store: in the store): a token key per ID token\n' +
    'algorithm (PS256, ES256, RS256) and a cookie key, all signing at once. Exit 1 when a key set exists\n' +
    'already (use "keys rotate").',
  options: {},
  maxPositionals: 0,
  async run({ values, io, json }) {
    const { path, config } = configOf(values, io);
    if (!config) return EXIT_FAILED;
    try {
      return await withSource(config, async (source) => {
        const dir = source.where;
        const { set, created } = await initKeys(source, nowSeconds());
        const digest = manifestDigest(set.manifest);
        if (!created) {
          io.stderr(
            `${path}: ${dir} already holds a key set (${digest}); "vpm-gateway keys rotate" replaces its keys\n`,
          );
          return EXIT_FAILED;
        }
        emit({ io, json }, { dir, digest, created: true }, `created the key set in ${dir} (${digest})\n`);
        return EXIT_OK;
      });
    } catch (err) {
      return failed(io, path, err);
    }
  },
});

const rotate = command({
  name: 'keys rotate',
  synopsis: '[--token] [--cookie] [options]',
  summary:
    'Adds the next keys: published (JWKS, cookie verification) at once, signing after keys.publish_delay\n' +
    'seconds; the keys they replace stay published for the longest token, session or interaction lifetime\n' +
    'plus clock skew. Keys whose time is over are removed. Without --token or --cookie both rotate.',
  help: [
    ['--token', 'rotate the token signing keys'],
    ['--cookie', 'rotate the cookie keys (not when cookie_keys is set in the configuration)'],
  ],
  options: { token: { type: 'boolean' }, cookie: { type: 'boolean' } },
  maxPositionals: 0,
  async run({ values, io, json }) {
    const { path, config } = configOf(values, io);
    if (!config) return EXIT_FAILED;
    const both = !values.token && !values.cookie;
    const staticCookies = config.cookie_keys !== undefined;
    if (values.cookie && staticCookies)
      throw new UsageError(
        `${path} sets cookie_keys: those are the cookie keys; change them there (or remove them to rotate here)`,
      );
    const now = nowSeconds();
    const o = {
      token: both || values.token === true,
      cookie: (both && !staticCookies) || values.cookie === true,
      now,
      publishDelay: config.keys.publish_delay,
      retireAfter: retireAfter(config),
    };
    try {
      const { change } = await withSource(config, (source) => rotateKeys(source, o));
      const added = addedKeys(change);
      const activates = iso(now + o.publishDelay);
      const digest = manifestDigest(change.manifest);
      emit(
        { io, json },
        {
          dir: config.keys.source === 'store' ? null : config.keys.dir,
          digest,
          added,
          activates,
          removed: change.removed,
        },
        `${added.map((k) => `published ${keyName(k)}\n`).join('')}` +
          `they sign from ${activates}; running instances load them within ${config.keys.reload_interval} s\n` +
          (staticCookies && both ? `cookie keys not rotated: ${path} sets cookie_keys\n` : '') +
          `removed ${change.removed.token.length + change.removed.cookie.length} expired key(s); key set ${digest}\n`,
      );
      return EXIT_OK;
    } catch (err) {
      return failed(io, path, err);
    }
  },
});

const status = command({
  name: 'keys status',
  synopsis: '[options]',
  summary:
    "Shows the key set (keys.dir or the store): each key's phase (next, current, retired, expired) and its times, and\n" +
    'the digest every running instance announces. Exit 1 when there is no usable key set.',
  options: {},
  maxPositionals: 0,
  async run({ values, io, json }) {
    const { path, config } = configOf(values, io);
    if (!config) return EXIT_FAILED;
    try {
      const { dir, set } = await withSource(config, async (source) => ({
        dir: source.where,
        set: await source.read(),
      }));
      if (!set) {
        io.stderr(`${path}: no key set in ${dir}; create it with "vpm-gateway keys init --config ${path}"\n`);
        return EXIT_FAILED;
      }
      const placed = placeAll(set.manifest, nowSeconds(), retireAfter(config));
      const keys = [...lines(placed.token, 'token'), ...lines(placed.cookie, 'cookie')];
      const digest = manifestDigest(set.manifest);
      const cookies = config.cookie_keys ? 'config cookie_keys (static)' : 'key set';
      emit(
        { io, json },
        { dir, digest, cookie_keys: config.cookie_keys ? 'config' : 'key set', keys },
        `key set ${dir} (${digest}); cookie keys from the ${cookies}\n${table(keys)}`,
      );
      return EXIT_OK;
    } catch (err) {
      return failed(io, path, err);
    }
  },
});

export const runKeys = group({
  name: 'keys',
  help: [
    ['init', 'create the token and cookie keys (once per deployment)'],
    ['rotate [--token] [--cookie]', 'publish the next keys; they sign after keys.publish_delay'],
    ['status', "show each key's phase and the key set's digest"],
    ['revoke KID', 'withdraw a leaked key at once; a key that signed is replaced by one signing now'],
  ],
  commands: {
    init: async () => init,
    rotate: async () => rotate,
    status: async () => status,
    revoke: async () => (await import('./keys-revoke.ts')).revoke,
  },
});
