// Walks the emulator's Connect pages over plain HTTP, as a browser submitting their forms would,
// and returns the URL Connect redirects to (with `code` or `error`).
export interface ConnectChoices {
  brand?: string;
  email?: string;
  decision?: 'allow' | 'deny';
  /** Which offered vehicles to keep; all of them by default. */
  pickVehicles?: (offered: string[]) => string[];
}

export async function completeConnect(connectUrl: string, choices: ConnectChoices = {}): Promise<URL> {
  const origin = new URL(connectUrl).origin;
  const preamble = await send(connectUrl);
  if (preamble.redirect) return preamble.redirect;
  const flow = /action="\/connect\/([^/"]+)\/start"/.exec(preamble.html)?.[1];
  if (!flow) throw new Error(`No Connect flow in the page:\n${preamble.html.slice(0, 500)}`);
  const page = (step: string) => `${origin}/connect/${flow}/${step}`;

  await send(page('start'), {});
  await send(page('brand'), { make: choices.brand ?? 'TESLA' });
  const login = await send(page('login'), {
    username: choices.email ?? 'driver@example.com',
    password: 'any password',
  });
  if (login.redirect) return login.redirect;

  const approval = await send(page('approve'));
  const offered = [...approval.html.matchAll(/name="vehicle" value="([^"]+)"/g)].map(
    (match) => match[1] ?? '',
  );
  const picked = choices.pickVehicles ? choices.pickVehicles(offered) : offered;
  const form = new URLSearchParams({ decision: choices.decision ?? 'allow' });
  for (const id of picked) form.append('vehicle', id);
  const result = await send(page('approve'), form);
  if (!result.redirect) throw new Error(`Connect did not redirect:\n${result.html.slice(0, 500)}`);
  return result.redirect;
}

/** One request; a redirect away from the emulator is returned, a redirect within it is followed. */
async function send(
  url: string,
  form?: Record<string, string> | URLSearchParams,
): Promise<{ html: string; redirect?: URL }> {
  const response = await fetch(url, {
    method: form ? 'POST' : 'GET',
    redirect: 'manual',
    ...(form ? { body: new URLSearchParams(form) } : {}),
  });
  const location = response.headers.get('location');
  if (location) {
    const next = new URL(location, url);
    if (next.origin !== new URL(url).origin) return { html: '', redirect: next };
    return send(next.toString());
  }
  if (!response.ok)
    throw new Error(`${response.status} from ${url}:\n${(await response.text()).slice(0, 500)}`);
  return { html: await response.text() };
}
