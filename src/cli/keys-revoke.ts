// `vpm-gateway keys revoke KID`: a key that leaked is withdrawn at once (src/keys/key-set.ts revokeKeySet);
// when it signed, a new key of its kind signs from now. Running instances follow within keys.reload_interval.
import { manifestDigest } from '../keys/lifecycle.ts';
import { nowSeconds, retireAfter, revokeKey } from '../keys/key-set.ts';
import { command, emit, EXIT_FAILED, EXIT_OK, UsageError } from './command.ts';
import { addedKeys, configOf, failed, keyName, withSource } from './keys-context.ts';

export const revoke = command({
  name: 'keys revoke',
  synopsis: 'KID [options]',
  summary:
    'Withdraws a key that leaked: it leaves the key set with its material, so no instance publishes,\n' +
    'accepts or signs with it once it reloads (within keys.reload_interval). When it was the key signing its\n' +
    'kind, a new key of that kind signs from now, without the publish delay: relying parties fetch the JWKS\n' +
    'again for its unknown kid. What the revoked key signed no longer verifies (ID tokens, id_token_hint,\n' +
    'cookies: sessions signed with a revoked cookie key end). Exit 1 when the key set holds no such key.\n' +
    'A KID that begins with a dash (ids are base64url) goes after --: keys revoke -- -Oabc...',
  options: {},
  maxPositionals: 1,
  async run({ values, positionals, io, json }) {
    const id = positionals[0];
    if (!id) throw new UsageError('the key to revoke is missing: its kid (token key) or id (cookie key)');
    const { path, config } = configOf(values, io);
    if (!config) return EXIT_FAILED;
    try {
      const change = await withSource(config, (source) =>
        revokeKey(source, { id, now: nowSeconds(), retireAfter: retireAfter(config) }),
      );
      const { kind, alg, phase } = change.revoked;
      const added = addedKeys(change);
      const digest = manifestDigest(change.manifest);
      emit(
        { io, json },
        { revoked: { id, kind, alg, phase }, added, digest },
        `revoked ${keyName({ kind, alg, id })}, ${phase} until now\n` +
          added.map((k) => `${keyName(k)} signs from now\n`).join('') +
          `running instances follow within ${config.keys.reload_interval} s; key set ${digest}\n`,
      );
      return EXIT_OK;
    } catch (err) {
      return failed(io, path, err);
    }
  },
});
