// A provider's answer posted again by the browser it came back through: a double click on the provider's
// "return to the service" button, or the browser sending the answer form again. The browser shows the
// answer to the last post, so once the first post's identity is handed back to the engine, a later post of
// the same answer leads on to the login's resume as the first did; the engine hands out one code per login
// (test/e2e/resume-once.test.ts) and the answer is not verified again. Another browser, another answer, an
// answer that was refused, or a login that has finished or expired: the refusal any replay gets.
import { constantTimeEqual } from '../constant-time.ts';
import { type LoginTrace, takerDigest } from './login-state.ts';
import type { LoginDeps, Outcome } from './step.ts';

/** How long a later post waits for the first one's answer to be verified (posted twice at once); an OpenID
 * Connect provider's token endpoint may take its `timeout` (10 s by default) before the outcome is known. */
const VERIFYING_WAIT_MS = 15_000;
const POLL_MS = 50;

export const RESUBMITTED = 'answer resubmitted by the browser it came back through';

/** Whether an answer of digest `answer` that finds its state spent is the answer that took it (`trace`),
 * again from the browser that brought it (only that browser's answer goes on: ./broker.ts). */
export function isResubmission(trace: LoginTrace, answer: string, browser: string | undefined): boolean {
  // a browser without a binding value is no browser to recognise (as sameBrowser: ./login-state.ts)
  if (trace.used !== true || trace.taken === undefined || browser === undefined) return false;
  return constantTimeEqual(trace.taken, takerDigest(answer, browser));
}

/** The way on for a resubmitted answer of login `uid`: its resume, once the identity it verified is handed
 * back to the interaction (waited for while the first post is being verified); undefined when that answer
 * was refused (its failure waits behind its page), or the login has finished or expired. */
export async function resumeOnceHandedBack(deps: LoginDeps, uid: string): Promise<Outcome | undefined> {
  const until = Date.now() + VERIFYING_WAIT_MS;
  for (;;) {
    const [interaction, refused] = await Promise.all([deps.engine.Interaction.find(uid), deps.results.get(uid)]);
    if (!interaction || refused || interaction.exp - Math.floor(Date.now() / 1000) < 1) return undefined;
    // a login result, as the callback writes it (./hand-back.ts); an error result is the way back's
    if (interaction.result?.login) return { type: 'redirect', url: interaction.returnTo };
    if (Date.now() >= until) return undefined;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
