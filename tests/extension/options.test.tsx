// In the browser the host permission lifts CORS for the options page; happy-dom is told the same.
// @vitest-environment-options {"settings": {"fetch": {"disableSameOriginPolicy": true}}}
import { Options, saveServerUrl } from '@/entrypoints/options/Options';
import { COPY_KEY } from '@/utils/first-paint-copy';
import type { BackgroundMessage } from '@/utils/messaging';
import {
  connectOptionsItem,
  operationsItem,
  serverUrlItem,
  sessionItem,
  unitsItem,
  vehiclesItem,
} from '@/utils/storage';
import { cleanup, fireEvent, render, screen, within } from '@testing-library/preact';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fakeBrowser } from 'wxt/testing/fake-browser';
import { useMessages } from './messages';
import { startStandInServer, type StandInServer } from './stand-in-server';
import { makeVehicle } from './vehicles';

let server: StandInServer;
let messages: BackgroundMessage[];
let permissionRequest: ReturnType<typeof vi.fn<(request: { origins?: string[] }) => Promise<boolean>>>;

beforeEach(async () => {
  fakeBrowser.reset();
  useMessages();
  server = await startStandInServer();
  server.route('GET /healthz', () => ({ body: { ok: true } }));
  await serverUrlItem.setValue('http://127.0.0.1:8787');
  permissionRequest = vi.fn(() => Promise.resolve(true));
  vi.spyOn(fakeBrowser.permissions, 'request').mockImplementation(permissionRequest);
  messages = [];
  fakeBrowser.runtime.onMessage.addListener((message: unknown) => {
    messages.push(message as BackgroundMessage);
  });
});

afterEach(async () => {
  cleanup();
  vi.restoreAllMocks();
  await server.close();
});

describe('saving the server address', () => {
  it('asks for the host permission, checks /healthz, then saves the origin', async () => {
    const status = await saveServerUrl(`${server.url}/some/path `);

    expect(status).toEqual({ kind: 'saved', origin: server.url });
    expect(permissionRequest).toHaveBeenCalledWith({ origins: ['http://127.0.0.1/*'] });
    expect(server.requests.map(({ path }) => path)).toEqual(['/healthz']);
    expect(await serverUrlItem.getValue()).toBe(server.url);
  });

  it('asks for the permission before anything else, within the click, as Firefox requires', async () => {
    permissionRequest.mockResolvedValue(false);

    const saving = saveServerUrl('https://cars.example.org');

    expect(permissionRequest).toHaveBeenCalledWith({ origins: ['https://cars.example.org/*'] });
    await saving;
  });

  it.each(['not a url', 'ftp://cars.example.org', 'http://cars.example.org'])(
    'refuses %s without asking for anything',
    async (input) => {
      const status = await saveServerUrl(input);

      expect(status).toEqual({ kind: 'error', message: expect.stringContaining('https://') as unknown });
      expect(permissionRequest).not.toHaveBeenCalled();
    },
  );

  it('keeps the old address when the permission is refused', async () => {
    permissionRequest.mockResolvedValue(false);
    const before = await serverUrlItem.getValue();

    const status = await saveServerUrl(server.url);

    expect(status).toEqual({
      kind: 'error',
      message: expect.stringContaining('needs your permission') as unknown,
    });
    expect(server.requests).toEqual([]);
    expect(await serverUrlItem.getValue()).toBe(before);
  });

  it('keeps the old address when what answers there is not a Car Connect server', async () => {
    // Another service's health check; a 4xx would do as well, but happy-dom prints failed fetches.
    server.route('GET /healthz', () => ({ body: { status: 'up' } }));
    const before = await serverUrlItem.getValue();

    const status = await saveServerUrl(server.url);

    expect(status).toEqual({
      kind: 'error',
      message: `No Car Connect server answered at ${server.url}. Check the address and that the server is running; nothing was changed.`,
    });
    expect(await serverUrlItem.getValue()).toBe(before);
  });

  it('signs out of the old server before switching', async () => {
    await sessionItem.setValue({ server: 'http://127.0.0.1:8787', token: 'session-1' });
    const serverAtSignOut: string[] = [];
    fakeBrowser.runtime.onMessage.addListener(async () => {
      serverAtSignOut.push(await serverUrlItem.getValue());
    });

    await saveServerUrl(server.url);

    expect(messages).toEqual([{ type: 'signOut' }]);
    expect(serverAtSignOut).toEqual(['http://127.0.0.1:8787']);
    expect(await serverUrlItem.getValue()).toBe(server.url);
  });

  it('forgets the old server’s session even when that server did not answer the sign-out', async () => {
    await sessionItem.setValue({ server: 'http://127.0.0.1:8787', token: 'session-1' });
    await vehiclesItem.setValue([makeVehicle()]);

    await saveServerUrl(server.url);

    expect(await sessionItem.getValue()).toBeNull();
    expect(await vehiclesItem.getValue()).toEqual([]);
  });

  it('forgets the popup’s copy of the old server’s vehicles', async () => {
    await sessionItem.setValue({ server: 'http://127.0.0.1:8787', token: 'session-1' });
    localStorage.setItem(COPY_KEY, JSON.stringify({ version: '', state: { vehicles: [makeVehicle()] } }));

    await saveServerUrl(server.url);

    expect(localStorage.getItem(COPY_KEY)).toBeNull();
  });

  it('shows the outcome on the page', async () => {
    render(<Options />);
    const input = await screen.findByRole<HTMLInputElement>('textbox', { name: 'Server address' });
    await vi.waitFor(() => {
      expect(input.value).toBe('http://127.0.0.1:8787');
    });

    fireEvent.input(input, { target: { value: server.url } });
    fireEvent.click(screen.getByRole('button', { name: 'Save' }));

    expect(await screen.findByText(`Saved. Car Connect now uses ${server.url}.`)).toBeTruthy();
    expect(input.getAttribute('aria-invalid')).toBe('false');
  });

  it('marks the field invalid and says why', async () => {
    render(<Options />);
    const input = await screen.findByRole('textbox', { name: 'Server address' });

    fireEvent.input(input, { target: { value: 'http://cars.example.org' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save' }));

    expect(await screen.findByText(/Enter a full address/)).toBeTruthy();
    expect(input.getAttribute('aria-invalid')).toBe('true');
  });
});

describe('units and Connect options', () => {
  it('stores the unit system', async () => {
    render(<Options />);
    const units = await screen.findByRole('group', { name: 'Units' });
    await vi.waitFor(() => {
      expect(within(units).getByRole<HTMLInputElement>('radio', { name: 'Metric (km)' }).checked).toBe(true);
    });

    fireEvent.click(within(units).getByRole('radio', { name: 'Imperial (miles)' }));

    await vi.waitFor(async () => {
      expect(await unitsItem.getValue()).toBe('imperial');
    });
  });

  it('stores the preferred make and single-vehicle choice', async () => {
    render(<Options />);
    const make = await screen.findByRole('combobox', { name: 'Car brand' });

    fireEvent.change(make, { target: { value: 'MERCEDES_BENZ' } });
    await vi.waitFor(async () => {
      expect(await connectOptionsItem.getValue()).toEqual({ make: 'MERCEDES_BENZ', singleVehicle: false });
    });
    fireEvent.click(screen.getByRole('checkbox', { name: 'Connect one vehicle at a time' }));

    await vi.waitFor(async () => {
      expect(await connectOptionsItem.getValue()).toEqual({ make: 'MERCEDES_BENZ', singleVehicle: true });
    });
    expect(screen.getByRole('option', { name: 'Mercedes-Benz' })).toBeTruthy();
  });
});

describe('vehicles', () => {
  it('shows each vehicle’s use this month against its budget', async () => {
    await vehiclesItem.setValue([
      makeVehicle({ make: 'TESLA', usage: { month: '2026-01', billed: 12, budget: 500 } }),
      makeVehicle({
        id: 'veh-bmw',
        make: 'BMW',
        model: 'i4',
        usage: { month: '2026-01', billed: 80, budget: 400 },
      }),
    ]);

    render(<Options />);

    const section = await screen.findByRole('region', { name: 'Use this month' });
    await vi.waitFor(() => {
      expect([...section.querySelectorAll('li')].map((item) => item.textContent)).toEqual([
        'Tesla Model 3: 12 of 500 Smartcar requests used this month',
        'BMW i4: 80 of 400 Smartcar requests used this month',
      ]);
    });
  });
});

describe('account', () => {
  /** Presses Sign out, confirms, and waits for the message to the background. */
  async function signOutAfterAsking() {
    fireEvent.click(await screen.findByRole('button', { name: 'Sign out' }));
    fireEvent.click(
      within(screen.getByRole('group', { name: 'Sign out' })).getByRole('button', { name: 'Sign out' }),
    );
    await vi.waitFor(() => {
      expect(messages).toEqual([{ type: 'signOut' }]);
    });
  }

  it('says when nothing is connected', async () => {
    render(<Options />);

    expect(await screen.findByText('No vehicle is connected.')).toBeTruthy();
    expect(screen.queryByRole('button', { name: 'Sign out' })).toBeNull();
  });

  it('signs out after asking', async () => {
    await sessionItem.setValue({ server: 'http://127.0.0.1:8787', token: 'session-1' });
    render(<Options />);

    await signOutAfterAsking();
  });

  it('forgets the popup’s copy of the vehicles when signing out', async () => {
    await sessionItem.setValue({ server: 'http://127.0.0.1:8787', token: 'session-1' });
    localStorage.setItem(COPY_KEY, JSON.stringify({ version: '', state: { vehicles: [makeVehicle()] } }));
    render(<Options />);

    await signOutAfterAsking();
    expect(localStorage.getItem(COPY_KEY)).toBeNull();
  });

  it('confirms a sign-out', async () => {
    await operationsItem.setValue({ session: { operation: 'SIGN_OUT', status: 'done' } });
    render(<Options />);

    expect(await screen.findByText('Signed out. No vehicle is connected.')).toBeTruthy();
    expect(screen.queryByText('No vehicle is connected.')).toBeNull();
  });

  it('says why a sign-out failed', async () => {
    await sessionItem.setValue({ server: 'http://127.0.0.1:8787', token: 'session-1' });
    await operationsItem.setValue({
      session: { operation: 'SIGN_OUT', status: 'failed', failure: { code: 'server_unreachable' } },
    });

    render(<Options />);

    expect(await screen.findByText(/^That did not work: Car Connect cannot reach its server/)).toBeTruthy();
  });
});
