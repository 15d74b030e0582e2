// The engine answers with a bare auto-submitting form of its own in two places: the form_post response
// mode (OAuth 2.0 Form Post Response Mode) and the confirmation a logout without a session posts to
// itself. That page has no language, no heading and English-only words for a browser without scripts;
// the same form goes out on a page of ours, in the user's language, after every other engine middleware
// (./interop.ts errorIssCompat edits the form first).
import type { KoaContextWithOIDC } from 'oidc-provider';

type Middleware = (ctx: KoaContextWithOIDC, next: () => Promise<void>) => Promise<void>;

export interface FormPostPages {
  /** the page posting `fields` to `action` */
  formPostPage(ctx: KoaContextWithOIDC, action: string, fields: Record<string, string>): Promise<void>;
}

/** The engine's own page, recognised by its title (node-oidc-provider lib/response_modes/form_post.js). */
const ENGINE_FORM_POST = '<title>Submitting Callback</title>';
const ACTION = /<form method="post" action="([^"]*)">/;
const INPUT = /<input type="hidden" name="([^"]*)" value="([^"]*)"\/>/g;

/** The engine's htmlSafe, undone. */
const htmlUnsafe = (s: string) =>
  s
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');

/** The action and fields of the engine's form_post page, if `body` is one. */
export function engineFormPost(body: unknown): { action: string; fields: Record<string, string> } | undefined {
  if (typeof body !== 'string' || !body.includes(ENGINE_FORM_POST)) return undefined;
  const action = ACTION.exec(body)?.[1];
  if (action === undefined) return undefined;
  const fields: Record<string, string> = {};
  for (const [, name, value] of body.matchAll(INPUT)) fields[htmlUnsafe(name!)] = htmlUnsafe(value!);
  return { action: htmlUnsafe(action), fields };
}

export function ownFormPostPage(pages: FormPostPages): Middleware {
  return async (ctx, next) => {
    await next();
    const form = engineFormPost(ctx.body);
    if (form) await pages.formPostPage(ctx, form.action, form.fields);
  };
}
