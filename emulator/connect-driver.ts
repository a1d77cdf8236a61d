// Walks the emulator's Connect pages over HTTP the way a user would (submitting each page's form),
// for tests that need an authorization code without a browser.

export interface ConnectChoices {
  /** Brand to pick when Connect shows the brand list; default 'TESLA'. */
  brand?: string;
  /** Login email; decides the account (see the README's test logins). Default `driver@example.com`. */
  email?: string;
  password?: string;
  /** 'deny' presses the deny button. Default 'allow'. */
  decision?: 'allow' | 'deny';
  /** VINs to tick on the approval page; default: whatever the page pre-selects. */
  vins?: string[];
  /** Sees each page before it is submitted, e.g. to check which pages a flow showed. */
  onPage?: (page: ConnectPage, html: string) => void;
}

export type ConnectPage = 'preamble' | 'brand' | 'login' | 'approval';

const MAX_STEPS = 12;

function formAction(page: string, suffix: string): string {
  const match = new RegExp(`<form\\b[^>]*\\baction="([^"]*/${suffix})"`).exec(page);
  if (!match?.[1]) throw new Error(`Connect page has no /${suffix} form:\n${page}`);
  return match[1];
}

function attributes(tag: string): Map<string, string> {
  return new Map(
    [...tag.matchAll(/([\w-]+)(?:="([^"]*)")?/g)].map(([, name = '', value = '']) => [name, value]),
  );
}

/** Which Connect page this is, told apart by the element ids the real Connect uses (smartcar/node-sdk test/end-to-end/helpers/index.js). */
function pageKind(page: string): ConnectPage {
  if (page.includes('id="continue-button"')) return 'preamble';
  if (page.includes('id="brand-search"')) return 'brand';
  if (page.includes('id="sign-in-button"')) return 'login';
  if (page.includes('id="approval-button"')) return 'approval';
  throw new Error(`Unrecognised Connect page:\n${page}`);
}

/** Vehicle ids to submit: the requested VINs, or the inputs the page checked by default. */
function chosenVehicles(page: string, vins: string[] | undefined): string[] {
  return [...page.matchAll(/<input\b([^>]*)>/g)]
    .map(([, tag = '']) => attributes(tag))
    .filter((input) => input.get('name') === 'vehicle' && !input.has('disabled'))
    .filter((input) => (vins ? vins.includes(input.get('data-vin') ?? '') : input.has('checked')))
    .map((input) => input.get('value') ?? '');
}

/**
 * Follows Connect from `authUrl` to the redirect back to the application and returns that URL
 * (with `code` or `error` in its query). Throws if a page is not one it knows.
 */
export async function completeConnect(authUrl: string, choices: ConnectChoices = {}): Promise<URL> {
  const origin = new URL(authUrl).origin;
  let response = await fetch(authUrl, { redirect: 'manual' });
  for (let step = 0; step < MAX_STEPS; step += 1) {
    const location = response.headers.get('location');
    if (location !== null) {
      const target = new URL(location, origin);
      if (target.origin !== origin) return target;
      response = await fetch(target, { redirect: 'manual' });
      continue;
    }
    const page = await response.text();
    if (!response.ok) throw new Error(`Connect answered ${response.status}:\n${page}`);
    const post = (action: string, fields: [string, string][]) =>
      fetch(new URL(action, origin), {
        method: 'POST',
        body: new URLSearchParams(fields),
        redirect: 'manual',
      });
    const kind = pageKind(page);
    choices.onPage?.(kind, page);
    switch (kind) {
      case 'preamble':
        response = await post(formAction(page, 'start'), []);
        break;
      case 'brand':
        response = await post(formAction(page, 'brand'), [['make', choices.brand ?? 'TESLA']]);
        break;
      case 'login':
        response = await post(formAction(page, 'login'), [
          ['username', choices.email ?? 'driver@example.com'],
          ['password', choices.password ?? 'password'],
        ]);
        break;
      case 'approval': {
        const vehicles = chosenVehicles(page, choices.vins).map((id): [string, string] => ['vehicle', id]);
        response = await post(formAction(page, 'approve'), [
          ...vehicles,
          ['decision', choices.decision ?? 'allow'],
        ]);
        break;
      }
    }
  }
  throw new Error(`Connect did not redirect back within ${MAX_STEPS} steps.`);
}
