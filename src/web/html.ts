// Minimal HTML rendering: tagged template that escapes every interpolated value unless it is already Html.
export class Html {
  readonly value: string;
  constructor(value: string) {
    this.value = value;
  }
  toString(): string {
    return this.value;
  }
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

function render(value: unknown): string {
  if (value instanceof Html) return value.value;
  if (Array.isArray(value)) return value.map(render).join('');
  if (value === undefined || value === null || value === false) return '';
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0]!;
  values.forEach((v, i) => {
    out += render(v) + strings[i + 1]!;
  });
  return new Html(out);
}

const STYLE = `body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a}
h1{font-size:1.4rem}a.button,button{display:inline-block;padding:.6rem 1rem;margin:.25rem 0;border:1px solid #9e3039;border-radius:4px;background:#fff;color:#9e3039;font-size:1rem;cursor:pointer;text-decoration:none}
button.primary,a.primary{background:#9e3039;color:#fff}ul.providers{list-style:none;padding:0}ul.providers li{margin:.5rem 0}
.error{border-left:4px solid #9e3039;padding:.5rem 1rem;background:#fbeff0}dl{display:grid;grid-template-columns:max-content auto;gap:.25rem 1rem}dt{font-weight:600}
.muted{color:#666;font-size:.9rem}`;

/** A full page. `nonce` allows the one inline script some pages need (auto-submitting forms). */
export function page(title: string, body: Html, opts: { lang?: string; nonce?: string } = {}): string {
  return html`<!doctype html>
<html lang="${opts.lang ?? 'lv'}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title><style nonce="${opts.nonce ?? ''}">${new Html(STYLE)}</style></head>
<body>${body}</body></html>`.value;
}

/** An auto-submitting POST form (banklink, SAML POST binding); a button remains for browsers without scripts. */
export function autoPostForm(url: string, fields: Record<string, string>, nonce: string, label = 'Continue'): Html {
  return html`<form id="autopost" method="post" action="${url}">
${Object.entries(fields).map(([k, v]) => html`<input type="hidden" name="${k}" value="${v}">`)}
<noscript><button class="primary" type="submit">${label}</button></noscript></form>
<script nonce="${nonce}">document.getElementById('autopost').submit()</script>`;
}
