// A provider's answer posted again by the browser it came back through: a double click on the provider's
// "return to the service" button, or the browser sending the answer form again. The browser shows the
// answer to the last post, so when the first post's identity was handed back to the engine, a later post
// of the same answer leads on to the login's resume as the first did; the engine hands out one code per
// login (test/e2e/resume-once.test.ts) and the answer is not verified again. Another browser, another
// answer, an answer that was refused, or a login that has finished or expired: the refusal any replay gets.
import { constantTimeEqual } from '../constant-time.ts';
import { type LoginStates, type LoginTrace, sameBrowser } from './login-state.ts';
import type { LoginDeps, Outcome } from './step.ts';

/** How long a later post waits for the first one's answer to be verified (posted twice at once); an OpenID
 * Connect provider's token endpoint may take its `timeout` (10 s by default) before the outcome is known. */
const VERIFYING_WAIT_MS = 15_000;

export const RESUBMITTED = 'verified answer resubmitted by the browser it came back through';

/** Whether an answer of digest `answer` that finds `state` spent is the answer that took it, again from the
 * browser that began its login, and that answer's identity was handed back (waited for while it is still
 * being verified). */
export async function isResubmission(
  states: LoginStates,
  state: string,
  trace: LoginTrace,
  answer: string,
  browser: string | undefined,
): Promise<boolean> {
  if (!trace.used || trace.answer === undefined || !constantTimeEqual(trace.answer, answer)) return false;
  if (!sameBrowser(trace, browser)) return false;
  return (trace.outcome ?? (await states.outcomeOf(state, VERIFYING_WAIT_MS))) === 'handed_back';
}

/** The way on for a resubmitted answer: the login's resume, while its interaction still waits there with
 * the identity handed back; undefined once the login has finished (its code was issued) or expired. */
export async function resumeOf(deps: LoginDeps, uid: string): Promise<Outcome | undefined> {
  const interaction = await deps.engine.Interaction.find(uid);
  if (!interaction?.result || interaction.exp - Math.floor(Date.now() / 1000) < 1) return undefined;
  return { type: 'redirect', url: interaction.returnTo };
}
