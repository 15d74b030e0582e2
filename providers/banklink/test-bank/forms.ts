// A scriptless browser's view of a page: the forms it holds, with their hidden and pre-filled fields.
// Tests and the conformance harness use it to follow auto-submitting forms and test-bank pages.
import { decodeEntities } from '../names.ts';
import { charsetOf } from '../../../test/support/form-encoding.ts';

export interface HtmlForm {
  id?: string;
  action: string;
  method: string;
  /** hidden/text inputs with a value, checked radios/checkboxes, selected options */
  fields: Record<string, string>;
}

function attributes(tag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of tag.matchAll(/([a-zA-Z_:][-a-zA-Z0-9_:.]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?/g)) {
    const name = m[1]!.toLowerCase();
    if (!(name in out)) out[name] = decodeEntities(m[2] ?? m[3] ?? m[4] ?? '');
  }
  return out;
}

/** Forms of a page in document order; relative actions are resolved against pageUrl. */
export function parseForms(html: string, pageUrl?: string): HtmlForm[] {
  const forms: HtmlForm[] = [];
  for (const m of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)) {
    const attrs = attributes(m[1]!.trim());
    const body = m[2]!;
    const fields: Record<string, string> = {};
    for (const input of body.matchAll(/<input\b([^>]*)>/gi)) {
      const a = attributes(input[1]!);
      const type = (a.type ?? 'text').toLowerCase();
      if (!a.name || type === 'submit' || type === 'button') continue;
      if ((type === 'radio' || type === 'checkbox') && !('checked' in a)) continue;
      fields[a.name] = a.value ?? '';
    }
    for (const select of body.matchAll(/<select\b([^>]*)>([\s\S]*?)<\/select>/gi)) {
      const a = attributes(select[1]!);
      if (!a.name) continue;
      const options = [...select[2]!.matchAll(/<option\b([^>]*)>([^<]*)/gi)].map((o) => ({
        a: attributes(o[1]!),
        text: decodeEntities(o[2]!.trim()),
      }));
      const chosen = options.find((o) => 'selected' in o.a) ?? options[0];
      if (chosen) fields[a.name] = chosen.a.value ?? chosen.text;
    }
    const action = attrs.action ?? '';
    forms.push({
      ...(attrs.id ? { id: attrs.id } : {}),
      action: pageUrl ? new URL(action, pageUrl).href : action,
      method: (attrs.method ?? 'get').toUpperCase(),
      fields,
    });
  }
  return forms;
}

/** POST a form as a browser would (urlencoded, UTF-8: the test bank's own forms are in UTF-8 pages),
 * without following redirects; the answer is read in the charset it names. */
export async function submitForm(
  form: HtmlForm,
  extra: Record<string, string> = {},
  headers: Record<string, string> = {},
): Promise<{ status: number; url: string; text: string; headers: Headers }> {
  const res = await fetch(form.action, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams({ ...form.fields, ...extra }).toString(),
    redirect: 'manual',
  });
  const text = new TextDecoder(charsetOf(res.headers)).decode(await res.arrayBuffer());
  return { status: res.status, url: form.action, text, headers: res.headers };
}
