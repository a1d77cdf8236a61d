import { App } from '@/entrypoints/popup/App';
import { mountPopup } from '@/entrypoints/popup/mount';
import { APP_START_LIMIT_MS, COPY_KEY, paintCopy } from '@/utils/first-paint-copy';
import type { Failure } from '@/utils/failure';
import type { BackgroundMessage } from '@/utils/messaging';
import {
  connectFlowItem,
  operationsItem,
  pendingConnectionsItem,
  refreshItem,
  serverUrlItem,
  sessionItem,
  vehiclesItem,
  watchUntilItem,
} from '@/utils/storage';
import { cleanup, fireEvent, render, screen, within } from '@testing-library/preact';
import { render as renderPreact } from 'preact';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fakeBrowser } from 'wxt/testing/fake-browser';
import { useMessages } from './messages';
import { makeVehicle } from './vehicles';

const SERVER = 'http://127.0.0.1:8787';
let messages: BackgroundMessage[];
let openOptionsPage: ReturnType<typeof vi.fn<() => Promise<void>>>;

beforeEach(async () => {
  fakeBrowser.reset();
  // The popup's own copy for its first render; a fresh profile has none.
  localStorage.clear();
  useMessages();
  messages = [];
  // Stands in for the background: records what the popup asks for.
  fakeBrowser.runtime.onMessage.addListener((message: unknown) => {
    messages.push(message as BackgroundMessage);
  });
  openOptionsPage = vi.fn(() => Promise.resolve());
  vi.spyOn(fakeBrowser.runtime, 'openOptionsPage').mockImplementation(openOptionsPage);
  await serverUrlItem.setValue(SERVER);
});

afterEach(() => {
  cleanup();
  vi.restoreAllMocks();
});

const button = (name: string | RegExp) => screen.getByRole('button', { name });

describe('first run', () => {
  it('says what it does and offers one button to connect', async () => {
    render(<App />);

    expect(await screen.findByText(/Connect your car through Smartcar/)).toBeTruthy();
    expect(screen.getByText(/never sees your password/)).toBeTruthy();
    fireEvent.click(screen.getByTestId('connect'));

    expect(screen.getByTestId('connect').textContent).toBe('Connect a vehicle');
    expect(messages).toEqual([{ type: 'connect' }]);
  });

  it('wakes the background, and offers no refresh or sign-out', async () => {
    render(<App />);

    await screen.findByRole('button', { name: 'Connect a vehicle' });
    await vi.waitFor(() => {
      expect(messages).toEqual([{ type: 'sync' }]);
    });
    expect(screen.queryByRole('button', { name: 'Refresh' })).toBeNull();
    expect(screen.queryByTestId('sign-out')).toBeNull();
  });

  it('opens the options page', async () => {
    render(<App />);

    fireEvent.click(await screen.findByRole('button', { name: 'Options' }));

    expect(openOptionsPage).toHaveBeenCalledOnce();
  });
});

describe('connecting', () => {
  it('says what to do in the sign-in window and hides the connect button', async () => {
    await connectFlowItem.setValue({ status: 'connecting' });

    render(<App />);

    const status = (await screen.findByText('Connecting…')).closest('[role="status"]') as HTMLElement;
    expect(status.getAttribute('aria-busy')).toBe('true');
    expect(status.textContent).toContain('select Allow');
    expect(screen.queryByTestId('connect')).toBeNull();
  });

  it('says it is asking Smartcar while connections have no vehicle list yet', async () => {
    await pendingConnectionsItem.setValue(1);

    render(<App />);

    expect(
      await screen.findByText('Asking Smartcar for your vehicles… this can take up to a minute'),
    ).toBeTruthy();
    expect(screen.queryByText(/Connect your car through Smartcar/)).toBeNull();
  });

  it('shows the vehicles as soon as the background stores them', async () => {
    await connectFlowItem.setValue({ status: 'connecting' });
    render(<App />);
    await screen.findByText('Connecting…');

    await vehiclesItem.setValue([makeVehicle({ make: 'TESLA' })]);
    await connectFlowItem.setValue({ status: 'idle' });

    expect(await screen.findByRole('article', { name: 'Tesla Model 3' })).toBeTruthy();
    expect(screen.queryByText('Connecting…')).toBeNull();
    expect(screen.getByTestId('connect').textContent).toBe('Connect another vehicle');
  });
});

describe('connected', () => {
  beforeEach(async () => {
    await sessionItem.setValue({ server: SERVER, token: 'session-1' });
    await vehiclesItem.setValue([
      makeVehicle({
        permissions: ['read_security', 'control_security'],
        data: { security: { isLocked: true } },
        fetchedAt: '2026-01-15T10:30:00.000Z',
      }),
      makeVehicle({
        id: 'veh-ford',
        make: 'FORD',
        model: 'Mustang',
        permissions: ['read_security', 'control_security'],
        data: { security: { isLocked: false } },
        fetchedAt: '2026-01-15T10:32:00.000Z',
      }),
    ]);
  });

  it('shows a row per vehicle and asks the background what the server has on open', async () => {
    render(<App />);

    const list = await screen.findByRole('region', { name: 'Your vehicles' });
    expect(
      within(list)
        .getAllByTestId('vehicle')
        .map((row) => row.dataset.vehicleId),
    ).toEqual(['veh-tesla', 'veh-ford']);
    await vi.waitFor(() => {
      expect(messages).toEqual([{ type: 'sync' }]);
    });
  });

  it('refreshes on request, and shows the server is working until it is done', async () => {
    render(<App />);
    fireEvent.click(await screen.findByRole('button', { name: 'Refresh' }));
    await vi.waitFor(() => {
      expect(messages).toContainEqual({ type: 'refresh' });
    });

    await watchUntilItem.setValue(Date.now() + 60_000);

    expect(await screen.findByText('Updating…')).toBeTruthy();
    // The label stays, so the header does not move; the button rests until the server is done.
    expect(screen.getByRole<HTMLButtonElement>('button', { name: 'Refresh' }).disabled).toBe(true);
    expect(screen.getByRole('banner').getAttribute('aria-busy')).toBe('true');

    await watchUntilItem.setValue(null);
    await vi.waitFor(() => {
      expect(screen.getByRole<HTMLButtonElement>('button', { name: 'Refresh' }).disabled).toBe(false);
    });
  });

  it('says when the data was read', async () => {
    render(<App />);

    expect(await screen.findByText(/^Read /)).toBeTruthy();
  });

  it('passes each row’s actions to the background', async () => {
    render(<App />);
    const rows = await screen.findAllByTestId('vehicle');

    for (const row of rows) {
      fireEvent.click(within(row).getByTestId('lock-toggle'));
      fireEvent.click(within(row).getByTestId('vehicle-details-toggle'));
      fireEvent.click(within(row).getByRole('button', { name: 'Disconnect' }));
      fireEvent.click(within(within(row).getByRole('group')).getByRole('button', { name: 'Disconnect' }));
      fireEvent.click(within(row).getByRole('button', { name: /Details/ }));
    }
    await vi.waitFor(() => {
      expect(messages).toHaveLength(5);
    });

    // Five messages, all different: the sync on open and the four actions, each for its own row.
    expect(messages).toEqual(
      expect.arrayContaining([
        { type: 'sync' },
        { type: 'setLock', vehicleId: 'veh-tesla', action: 'UNLOCK' },
        { type: 'setLock', vehicleId: 'veh-ford', action: 'LOCK' },
        { type: 'disconnect', vehicleId: 'veh-tesla' },
        { type: 'disconnect', vehicleId: 'veh-ford' },
      ]),
    );
  });

  it('shows Reconnect on a row as soon as its state says so', async () => {
    render(<App />);
    const tesla = await screen.findByRole('article', { name: 'Tesla Model 3' });
    expect(within(tesla).queryByRole('button', { name: 'Reconnect' })).toBeNull();

    const [first, second] = await vehiclesItem.getValue();
    if (!first || !second) throw new Error('two vehicles expected');
    await vehiclesItem.setValue([{ ...first, status: 'reconnect_required' }, second]);

    expect(await within(tesla).findByRole('button', { name: 'Reconnect' })).toBeTruthy();
  });

  it('signs out of everything after asking', async () => {
    render(<App />);

    fireEvent.click(await screen.findByTestId('sign-out'));
    const question = screen.getByRole('group', { name: 'Sign out' });
    expect(question.textContent).toContain('Every vehicle is disconnected at Smartcar');
    expect(messages).not.toContainEqual({ type: 'signOut' });
    fireEvent.click(within(question).getByRole('button', { name: 'Sign out' }));

    await vi.waitFor(() => {
      expect(messages).toContainEqual({ type: 'signOut' });
    });
  });

  it('confirms the sign-out and returns to the first run', async () => {
    await operationsItem.setValue({ session: { operation: 'SIGN_OUT', status: 'done' } });
    await sessionItem.removeValue();
    await vehiclesItem.removeValue();

    render(<App />);

    expect(await screen.findByText('Signed out. No vehicle is connected.')).toBeTruthy();
    expect(button('Connect a vehicle')).toBeTruthy();
  });
});

describe('notices', () => {
  it.each<[Failure, string, string]>([
    [{ code: 'access_denied' }, 'Connecting was cancelled.', 'Connect again whenever you are ready.'],
    [{ code: 'cancelled' }, 'Connecting was cancelled.', 'Connect again whenever you are ready.'],
  ])('says %j neutrally', async (failure, title, nextStep) => {
    await connectFlowItem.setValue({ status: 'error', failure });

    render(<App />);

    const notice = await screen.findByTestId('notice');
    expect(notice.getAttribute('role')).toBe('status');
    expect(notice.querySelector('.notice-title')?.textContent).toBe(title);
    expect(notice.textContent).toContain(nextStep);
    expect(screen.queryByRole('alert')).toBeNull();
  });

  it.each<[Failure, string, string]>([
    [
      { code: 'vehicle_incompatible', vehicle: { make: 'AUDI', model: 'A4', year: '2019' } },
      'Your 2019 AUDI A4 cannot be connected.',
      'does not support this vehicle',
    ],
    [
      { code: 'connect_error', detail: 'No vehicles found.' },
      'Smartcar could not connect your vehicle.',
      'Smartcar said: No vehicles found.',
    ],
    [
      { code: 'rate_limited', retryAt: '2026-01-15T14:05:00.000Z' },
      'Too many requests in a short time.',
      `Try again after ${new Date('2026-01-15T14:05:00.000Z').toLocaleString(undefined, { day: 'numeric', month: 'short', hour: 'numeric', minute: '2-digit' })}.`,
    ],
    [{ code: 'rate_limited' }, 'Too many requests in a short time.', 'Wait a minute'],
    [
      { code: 'request_budget_spent', retryAt: '2026-02-01T00:00:00.000Z' },
      'This month’s requests for this vehicle are used up.'.replace('’', "'"),
      `Reading resumes on ${new Date('2026-02-01T00:00:00.000Z').toLocaleDateString(undefined, { day: 'numeric', month: 'long' })}.`,
    ],
    [{ code: 'session_expired' }, 'Your sign-in expired.', 'to start again'],
    [{ code: 'interrupted' }, 'The sign-in was interrupted.', 'to start again'],
    [{ code: 'internal' }, 'Something went wrong.', 'check its logs'],
  ])('explains %j and what to do next', async (failure, title, nextStep) => {
    await connectFlowItem.setValue({ status: 'error', failure });

    render(<App />);

    const alert = await screen.findByRole('alert');
    expect(alert.querySelector('.notice-title')?.textContent).toBe(title);
    expect(alert.textContent).toContain(nextStep);
  });

  it('tells how to start the local server, without a link to the options page', async () => {
    await connectFlowItem.setValue({
      status: 'error',
      failure: { code: 'server_unreachable', detail: SERVER },
    });

    render(<App />);

    const notice = await screen.findByTestId('notice');
    expect(notice.textContent).toContain(`Car Connect cannot reach its server at ${SERVER}.`);
    expect(notice.textContent).toContain('Is the server running? Start it with `npm start`.');
    expect(within(notice).queryByRole('button', { name: 'Options' })).toBeNull();
  });

  it.each([
    [
      { code: 'server_unreachable', detail: 'https://cars.example' },
      'cannot reach its server at https://cars.example',
    ],
    [{ code: 'extension_not_allowed' }, 'The server does not accept this copy of Car Connect.'],
    [{ code: 'redirect_uri_not_allowed' }, 'The server does not accept this copy of Car Connect.'],
  ] as const)('points %j to the options page', async (failure, title) => {
    await connectFlowItem.setValue({ status: 'error', failure });

    render(<App />);

    const notice = await screen.findByTestId('notice');
    expect(notice.textContent).toContain(title);
    fireEvent.click(within(notice).getByRole('button', { name: 'Options' }));
    expect(openOptionsPage).toHaveBeenCalledOnce();
  });

  it('shows a problem once, whichever actions met it', async () => {
    const failure: Failure = { code: 'server_unreachable', detail: SERVER };
    await sessionItem.setValue({ server: SERVER, token: 'session-1' });
    await vehiclesItem.setValue([makeVehicle({ permissions: ['control_security'] })]);
    await connectFlowItem.setValue({ status: 'error', failure });
    await refreshItem.setValue({ status: 'failed', failure });
    await operationsItem.setValue({
      'veh-tesla': { operation: 'LOCK', status: 'failed', failure },
      session: { operation: 'SIGN_OUT', status: 'failed', failure },
    });

    render(<App />);

    await screen.findAllByTestId('notice');
    expect(screen.getAllByTestId('notice')).toHaveLength(1);
    expect(document.body.textContent.split('cannot reach its server')).toHaveLength(2);
  });

  it('goes away when dismissed, and stays away on the next open', async () => {
    await connectFlowItem.setValue({ status: 'error', failure: { code: 'internal' } });
    render(<App />);

    fireEvent.click(within(await screen.findByTestId('notice')).getByRole('button', { name: 'Dismiss' }));

    await vi.waitFor(() => {
      expect(screen.queryByTestId('notice')).toBeNull();
    });
    expect(await connectFlowItem.getValue()).toEqual({ status: 'idle' });
  });

  it('goes away when the problem does', async () => {
    await refreshItem.setValue({ status: 'failed', failure: { code: 'server_unreachable', detail: SERVER } });
    render(<App />);
    await screen.findByTestId('notice');

    await refreshItem.setValue({ status: 'idle' });

    await vi.waitFor(() => {
      expect(screen.queryByTestId('notice')).toBeNull();
    });
  });
});

describe('first render from the copy in localStorage', () => {
  /** The vehicle rows' IDs, on the page or in one root. */
  const rows = (root: HTMLElement = document.body) =>
    within(root)
      .queryAllByTestId('vehicle')
      .map((row) => row.dataset.vehicleId);

  beforeEach(async () => {
    await sessionItem.setValue({ server: SERVER, token: 'secret-session-token' });
    await vehiclesItem.setValue([
      makeVehicle(),
      makeVehicle({ id: 'veh-ford', make: 'FORD', model: 'Mustang' }),
    ]);
  });

  /** Opens the popup until it shows what storage holds, and closes it, as a person would. */
  async function openAndClose(): Promise<void> {
    render(<App />);
    await vi.waitFor(() => {
      expect(rows()).toEqual(['veh-tesla', 'veh-ford']);
    });
    cleanup();
  }

  it('copies what it renders from storage, and never the session or its token', async () => {
    await refreshItem.setValue({ status: 'failed', failure: { code: 'internal' } });
    await openAndClose();

    const copy = localStorage.getItem(COPY_KEY) ?? '';
    expect(Object.keys((JSON.parse(copy) as { state: object }).state).sort()).toEqual([
      'flow',
      'operations',
      'pendingConnections',
      'refresh',
      'vehicles',
      'watchUntil',
    ]);
    expect(copy).toContain('veh-ford');
    expect(copy).toContain('"code":"internal"');
    expect(copy).not.toContain('secret-session-token');
  });

  it('copies a picture of the popup as a fresh open draws it, with no row opened or question asked', async () => {
    render(<App />);
    await vi.waitFor(() => {
      expect(rows()).toEqual(['veh-tesla', 'veh-ford']);
    });
    fireEvent.click(screen.getAllByTestId('vehicle-details-toggle')[0] as HTMLElement);
    fireEvent.click(screen.getByTestId('sign-out'));
    expect(document.querySelector('.details')).not.toBeNull();
    expect(screen.getByRole('group', { name: 'Sign out' })).toBeTruthy();
    // A change in storage while the row is open is copied with its picture.
    await vehiclesItem.setValue([makeVehicle({ model: 'Model Y' })]);
    await vi.waitFor(() => {
      expect(localStorage.getItem(COPY_KEY)).toContain('Model Y');
    });

    const picture = document.createElement('div');
    picture.innerHTML = (JSON.parse(localStorage.getItem(COPY_KEY) ?? '') as { picture: string }).picture;
    expect(picture.querySelector('[data-testid="vehicle"] h2')?.textContent).toBe('Tesla Model Y');
    expect(
      picture.querySelector('[data-testid="vehicle-details-toggle"]')?.getAttribute('aria-expanded'),
    ).toBe('false');
    expect(picture.querySelector('.details')).toBeNull();
    expect(picture.querySelector('[role="group"]')).toBeNull();
    expect(picture.querySelector('[data-testid="sign-out"]')).not.toBeNull();
  });

  const paintedRoots: HTMLElement[] = [];
  /** The picture put up in a root of its own, as first-paint.js does in popup.html. */
  function paintedRoot(): HTMLElement {
    const root = document.body.appendChild(document.createElement('div'));
    paintedRoots.push(root);
    paintCopy(root);
    return root;
  }
  afterEach(() => {
    for (const root of paintedRoots.splice(0)) {
      renderPreact(null, root);
      // Taken over, as by the app: the time limit for the app to start leaves it alone.
      root.inert = false;
      root.remove();
    }
  });

  it('puts the picture of the last open up, inert', async () => {
    await openAndClose();

    const root = paintedRoot();

    expect(root.inert).toBe(true);
    expect(rows(root)).toEqual(['veh-tesla', 'veh-ford']);
  });

  it('draws in the picture what the app renders days later, but for the ages, which it hides', async () => {
    await openAndClose();
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(Date.now() + 30 * 24 * 60 * 60 * 1000);
      const root = paintedRoot();
      const { container } = render(<App />);

      const withoutAges = (element: Element) => {
        const copy = element.cloneNode(true) as Element;
        copy.querySelectorAll('[data-age]').forEach((age) => {
          age.remove();
        });
        return copy.innerHTML;
      };
      expect(root.querySelector('[data-age]')?.textContent).not.toBe(
        container.querySelector('[data-age]')?.textContent,
      );
      expect(withoutAges(root)).toBe(withoutAges(container));
    } finally {
      vi.useRealTimers();
    }
  });

  it('replaces the picture with the app once the picture has been on screen', async () => {
    await openAndClose();
    const root = paintedRoot();
    const picturedRow = root.querySelector('[data-testid="vehicle"]');

    mountPopup(root);
    expect(root.querySelector('[data-testid="vehicle"]')).toBe(picturedRow);

    await vi.waitFor(() => {
      expect(root.inert).toBe(false);
    });
    expect(rows(root)).toEqual(['veh-tesla', 'veh-ford']);
    expect(root.querySelector('[data-testid="vehicle"]')).not.toBe(picturedRow);
    fireEvent.click(within(root).getByTestId('connect'));
    expect(messages).toContainEqual({ type: 'connect' });
  });

  it('takes the picture down, and forgets the copy, when the app does not start in time', async () => {
    await openAndClose();
    vi.useFakeTimers({ toFake: ['setTimeout'] });
    try {
      const root = paintedRoot();
      const started = paintedRoot();
      // The app took this one over.
      started.inert = false;

      vi.advanceTimersByTime(APP_START_LIMIT_MS);

      expect(root.inert).toBe(false);
      expect(root.childNodes).toHaveLength(0);
      expect(localStorage.getItem(COPY_KEY)).toBeNull();
      expect(rows(started)).toEqual(['veh-tesla', 'veh-ford']);
    } finally {
      vi.useRealTimers();
    }
  });

  it('renders the copied vehicles in its first render, before storage has answered', async () => {
    await openAndClose();

    render(<App />);

    // No await: storage answers only after a round trip, the copy is there at once.
    expect(rows()).toEqual(['veh-tesla', 'veh-ford']);
    expect(screen.getByTestId('sign-out')).toBeTruthy();
  });

  it('forgets its copy when the person signs out, and keeps none while the sign-out is under way', async () => {
    await openAndClose();
    render(<App />);

    fireEvent.click(await screen.findByTestId('sign-out'));
    fireEvent.click(
      within(screen.getByRole('group', { name: 'Sign out' })).getByRole('button', { name: 'Sign out' }),
    );
    expect(localStorage.getItem(COPY_KEY)).toBeNull();

    // The background marks the sign-out pending while the server works on it.
    await operationsItem.setValue({ session: { operation: 'SIGN_OUT', status: 'pending' } });
    await vehiclesItem.setValue([...(await vehiclesItem.getValue())]);
    expect(await screen.findByText('Signing out…')).toBeTruthy();
    // Effects run after the render that shows it.
    await vi.waitFor(() => {
      expect(localStorage.getItem(COPY_KEY)).toBeNull();
    });
  });

  it('corrects a stale copy as soon as storage answers: signed out meanwhile', async () => {
    await openAndClose();
    await sessionItem.removeValue();
    await vehiclesItem.removeValue();

    render(<App />);
    expect(rows()).toEqual(['veh-tesla', 'veh-ford']);

    expect(await screen.findByText(/Connect your car through Smartcar/)).toBeTruthy();
    expect(rows()).toEqual([]);
    await vi.waitFor(() => {
      expect(localStorage.getItem(COPY_KEY)).toContain('"vehicles":[]');
    });
  });

  it.each<[string, (copy: { version: string; state: object }) => string]>([
    ['that is not JSON', (copy) => JSON.stringify(copy).slice(0, 20)],
    // The popup's script name differs when its code does: an older popup wrote this one.
    ['written by other code', (copy) => JSON.stringify({ ...copy, version: '/chunks/popup-0ld.js' })],
    ['of another shape', (copy) => JSON.stringify({ ...copy, state: { ...copy.state, vehicles: {} } })],
    ['without its picture', (copy) => JSON.stringify({ ...copy, picture: undefined })],
  ])('ignores a copy %s and waits for storage', async (_case, spoil) => {
    await openAndClose();
    const copy = JSON.parse(localStorage.getItem(COPY_KEY) ?? '') as { version: string; state: object };
    localStorage.setItem(COPY_KEY, spoil(copy));

    expect(paintedRoot().innerHTML).toBe('');
    const { container } = render(<App />);
    expect(container.innerHTML).toBe('');

    await vi.waitFor(() => {
      expect(rows()).toEqual(['veh-tesla', 'veh-ford']);
    });
  });

  it('renders from storage alone, and wakes the background, when localStorage refuses the copy', async () => {
    const setItem = vi.spyOn(localStorage, 'setItem').mockImplementation(() => {
      throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
    });
    try {
      await openAndClose();
      messages = [];
      render(<App />);

      expect(rows()).toEqual([]);
      await vi.waitFor(() => {
        expect(rows()).toEqual(['veh-tesla', 'veh-ford']);
      });
      // The popup goes on as without a copy: it still wakes the background.
      await vi.waitFor(() => {
        expect(messages).toEqual([{ type: 'sync' }]);
      });
    } finally {
      // happy-dom's storage keeps a bound copy of the method: the spy is put back here, not by restoreAllMocks.
      setItem.mockRestore();
    }
  });

  it('uses a copy once: a copy the popup cannot render is gone on the next open', async () => {
    await openAndClose();
    const copy = JSON.parse(localStorage.getItem(COPY_KEY) ?? '') as { state: { vehicles: object[] } };
    // A vehicle without its data: passes the quick shape check, fails to render.
    const vehicles = copy.state.vehicles.map((vehicle) => ({ ...vehicle, data: undefined }));
    localStorage.setItem(COPY_KEY, JSON.stringify({ ...copy, state: { ...copy.state, vehicles } }));
    vi.spyOn(console, 'error').mockImplementation(() => undefined);

    expect(() => render(<App />)).toThrow();
    cleanup();

    await openAndClose();
  });
});
