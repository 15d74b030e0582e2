// The login flow: how one authorization request of an agency service becomes a verified identity in its
// tokens. Its steps, in order, and the file of each:
//
//   1. selection        ./selection.ts   first visit of the interaction: audited once; an idp_hint skips
//                                        the page, else the providers ./policy.ts allows are offered
//   2. start            ./start.ts       the choice checked against ./policy.ts and counted; ./broker.ts
//                                        stores the login under a fresh state (./login-state.ts) and the
//                                        adapter says where the user goes
//   3. callback         ./callback.ts    the provider's answer, its login found by that state (./broker.ts)
//                                        and refused unread unless the browser that began it brings it
//                                        (src/web/browser-binding.ts); a verified identity goes on to
//                                        step 7 at once, a failure waits for the page that explains it
//   4. verify           ./verify.ts      the adapter checks the answer: signature, replay, freshness
//                                        (src/broker/freshness.ts)
//   5. normalise        ./verify.ts      names, personal code and level as one Identity
//                                        (src/identity/identity.ts)
//   6. level check      ./verify.ts      at least the level acr_values asked for
//   7. hand back        ./hand-back.ts   to the engine: the login and its consent, the identity stored
//                                        under the grant (./accounts.ts), or an OAuth error; the browser
//                                        then resumes at the engine's /auth/<uid>
//   8. release claims   ./claims.ts      the engine's findAccount: the granted scopes' claims, audited
//
// Any step may end the login the way back (./ending.ts). What the engine does afterwards (tokens,
// refusals, logout) is audited by ./engine-events.ts. Steps take plain data and answer an Outcome
// (./step.ts); src/web only carries HTTP in and out.
import type { UiLocale } from './locale.ts';
import { jsonRecords } from './records.ts';
import { openInteraction } from './selection.ts';
import { chooseProvider } from './start.ts';
import { receiveAnswer, refuseOversizedBody, type CallbackOutcome } from './callback.ts';
import { handBack } from './hand-back.ts';
import { endLogin } from './ending.ts';
import type { Interaction, LoginDeps, Outcome } from './step.ts';

export type LoginFlowOptions = Omit<LoginDeps, 'results'>;

export class LoginFlow {
  private readonly deps: LoginDeps;

  constructor(options: LoginFlowOptions) {
    this.deps = { ...options, results: jsonRecords(options.store, 'result:', options.limits.resultTtlSeconds) };
  }

  /** 1. The interaction's page: the provider selection, or straight on to an idp_hint unless the user
   * came back to `choose` another provider. `browser`: the binding value of the browser (a start keeps it). */
  open(interaction: Interaction, locale: UiLocale, browser: string, choose = false): Promise<Outcome> {
    return openInteraction(this.deps, interaction, locale, browser, choose);
  }

  /** 2. The user picked a provider in the browser of binding value `browser`. */
  choose(interaction: Interaction, providerId: string, locale: UiLocale, browser: string): Promise<Outcome> {
    return chooseProvider(this.deps, interaction, providerId, locale, browser);
  }

  /** 3-6. A provider's answer, brought by the browser of binding value `browser` (if it carries one). */
  answer(
    providerId: string,
    params: Record<string, string>,
    method: 'GET' | 'POST',
    browser: string | undefined,
  ): Promise<CallbackOutcome> {
    return receiveAnswer(this.deps, providerId, params, method, browser);
  }

  /** 3. A provider's answer too large to read. */
  refuseAnswer(providerId: string, reason: string): Promise<Outcome> {
    return refuseOversizedBody(this.deps, providerId, reason);
  }

  /** The encoding a provider's page posts its answer in, when not UTF-8 (src/web/form-charset.ts). */
  answerCharset(providerId: string): string | undefined {
    return this.deps.broker.answerCharset(providerId);
  }

  /** The longest callback field any provider accepts: what the callback body must have room for. */
  longestAnswerField(): number {
    return this.deps.broker.longestCallbackField();
  }

  /** 7. Back to the engine with the failure of step 3 (a verified identity went back at the callback). */
  handBack(interaction: Interaction): Promise<Outcome> {
    return handBack(this.deps, interaction);
  }

  /** The way back, chosen on one of our pages. */
  end(interaction: Interaction, reason: string): Promise<Outcome> {
    return endLogin(this.deps, interaction, reason);
  }
}
