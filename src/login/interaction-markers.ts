// What the login flow keeps in the store for one interaction, beside the engine's own Interaction: the
// selection already audited, the provider starts counted, the latest provider login. They are needed only
// until the engine resumes the login at /auth/<uid>; then they are deleted rather than left to their TTL
// (an abandoned login's, and one the resume ends with an OAuth error, expire with the interaction).
import type Provider from 'oidc-provider';
import type { Logger } from '../logger.ts';
import type { Store } from '../store/store.ts';

/** The selection page's audit record was written for this interaction (./selection.ts). */
export const seenKey = (uid: string): string => `seen:${uid}`;
/** Provider starts counted for this interaction (./start.ts). */
export const startsKey = (uid: string): string => `starts:${uid}`;
/** The prefix of the latest provider login started for an interaction (./login-state.ts). */
export const LATEST_LOGIN_PREFIX = 'login-of:';

/** Delete an interaction's markers once the engine has resumed it, after the response: the resume route
 * loads the Interaction by the browser's own resume cookie, so only the browser of the login ends it. */
export function forgetResumedInteractions(engine: Provider, store: Store, logger: Logger): void {
  engine.on('interaction.ended', (ctx) => {
    // read now: the resume may go on to start another interaction, which takes the same place in ctx
    const uid = ctx.oidc.entities.Interaction?.uid;
    if (!uid) return;
    ctx.res.once('close', () => {
      store
        .delete(seenKey(uid), startsKey(uid), `${LATEST_LOGIN_PREFIX}${uid}`)
        .catch((err: Error) => logger.warn('markers of an ended interaction not deleted', { error: err.name }));
    });
  });
}
