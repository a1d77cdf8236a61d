// The page shell of the emulated Connect: plain server-rendered HTML, no scripts, small inline CSS.

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** A string that is already HTML; everything else interpolated into `html` is escaped. */
export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

type Part = string | number | Html | readonly Html[] | false | null | undefined;

function render(part: Part): string {
  if (part === false || part === null || part === undefined) return '';
  if (part instanceof Html) return part.value;
  if (Array.isArray(part)) return part.map((item: Html) => item.value).join('');
  return String(part).replace(/[&<>"']/g, (char) => ESCAPES[char] ?? char);
}

/** Tagged template that escapes interpolations unless they are `Html`. */
export function html(strings: TemplateStringsArray, ...parts: Part[]): Html {
  return new Html(
    strings.reduce((out, text, index) => out + text + (index < parts.length ? render(parts[index]) : ''), ''),
  );
}

const STYLE = `
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#f3f5f8;color:#16202c}
main{max-width:26rem;margin:2rem auto;padding:1.75rem;background:#fff;border-radius:12px;box-shadow:0 1px 4px #0002}
h1{font-size:1.35rem;margin:0 0 .75rem}
p{margin:.5rem 0}
.mode{display:inline-block;font-size:.75rem;font-weight:600;letter-spacing:.04em;text-transform:uppercase;color:#7a4b00;background:#fff3d6;border-radius:4px;padding:.1rem .4rem;margin-bottom:.75rem}
.app{color:#4a5868}
button{font:inherit;cursor:pointer;border-radius:8px;padding:.65rem 1rem;border:1px solid #b8c2cc;background:#fff;color:inherit}
button.primary{background:#1f5eff;border-color:#1f5eff;color:#fff;font-weight:600}
button:focus-visible,input:focus-visible,a:focus-visible{outline:3px solid #8fb0ff;outline-offset:2px}
.stack{display:flex;flex-direction:column;gap:.6rem;margin-top:1rem}
.row{display:flex;gap:.6rem;margin-top:1.25rem}
.row button{flex:1}
label{font-weight:600;font-size:.9rem}
input[type=text],input[type=email],input[type=password],input[type=search]{font:inherit;width:100%;padding:.6rem .7rem;border:1px solid #b8c2cc;border-radius:8px;margin-top:.25rem}
.brands{display:grid;grid-template-columns:1fr 1fr;gap:.5rem;margin-top:1rem}
.brand-list-item{text-align:left;font-weight:600}
fieldset{border:1px solid #dde3ea;border-radius:8px;margin:1rem 0;padding:.5rem .75rem}
legend{font-weight:600;padding:0 .25rem}
.vehicle{display:flex;gap:.6rem;align-items:flex-start;padding:.4rem 0}
.vehicle input{margin-top:.3rem;width:1.1rem;height:1.1rem}
.vehicle span{font-weight:400}
.note{color:#4a5868;font-size:.85rem}
.error{color:#a4161a;background:#fde8e8;border-radius:6px;padding:.5rem .75rem}
ul.permissions{padding-left:1.2rem;margin:.25rem 0}
.link{background:none;border:none;color:#1f5eff;padding:.25rem 0;margin-top:1rem;text-decoration:underline}
`;

export function page(title: string, body: Html, mode?: string): string {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${title} · Smartcar Connect (emulator)</title>
        <style>
          ${new Html(STYLE)}
        </style>
      </head>
      <body>
        <main>${mode && mode !== 'live' ? html`<div class="mode">${mode} mode</div>` : ''} ${body}</main>
      </body>
    </html>`.value;
}
