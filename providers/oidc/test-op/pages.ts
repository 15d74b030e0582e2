// The test eID's HTML: the login page where the person and level are picked, and its error page.
import { escapeHtml } from '../../../src/web/html.ts';
import type { TestUser } from './users.ts';

export function loginPage(
  interactionPath: string,
  users: Record<string, TestUser>,
  acrValues: readonly string[],
): string {
  const options = Object.entries(users)
    .map(
      ([id, u]) =>
        `<option value="${escapeHtml(id)}">${escapeHtml(`${u.given_name ?? '?'} ${u.family_name ?? '?'} (${id})`)}</option>`,
    )
    .join('');
  const acrs = acrValues.map((a) => `<option value="${escapeHtml(a)}">${escapeHtml(a)}</option>`).join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Test eID</title></head><body>
<h1>Test eID provider</h1>
<form method="post" action="${escapeHtml(interactionPath)}/login">
<label>Person <select name="user">${options}</select></label>
<label>Level <select name="acr">${acrs}</select></label>
<input type="hidden" name="amr" value="smart_card">
<button type="submit">Log in</button></form>
<form method="post" action="${escapeHtml(interactionPath)}/abort"><input type="hidden" name="error" value="user_cancel"><button type="submit">Cancel</button></form>
</body></html>`;
}

/** node-oidc-provider's `renderError`: the OAuth error and its description, escaped. */
export function errorPage(error: unknown, description: unknown): string {
  return `<!doctype html><p>${escapeHtml(String(error))}: ${escapeHtml(String(description ?? ''))}</p>`;
}
