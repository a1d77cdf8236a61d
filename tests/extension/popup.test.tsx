import { App } from '@/entrypoints/popup/App';
import type { Failure } from '@/utils/failure';
import type { BackgroundMessage } from '@/utils/messaging';
import { connectFlowItem, operationsItem, refreshItem, sessionItem, vehiclesItem } from '@/utils/storage';
import { cleanup, fireEvent, render, screen, within } from '@testing-library/preact';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fakeBrowser } from 'wxt/testing/fake-browser';
import { useMessages } from './messages';
import { makeVehicle } from './vehicles';

let messages: BackgroundMessage[];
let openOptionsPage: ReturnType<typeof vi.fn<() => Promise<void>>>;

beforeEach(() => {
  fakeBrowser.reset();
  useMessages();
  messages = [];
  // Stands in for the background: records what the popup asks for.
  fakeBrowser.runtime.onMessage.addListener((message: unknown) => {
    messages.push(message as BackgroundMessage);
  });
  openOptionsPage = vi.fn(() => Promise.resolve());
  vi.spyOn(fakeBrowser.runtime, 'openOptionsPage').mockImplementation(openOptionsPage);
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
    fireEvent.click(button('Connect a vehicle'));

    expect(messages).toEqual([{ type: 'connect' }]);
  });

  it('does not ask for a refresh without a session, and offers no refresh or sign-out', async () => {
    render(<App />);

    await screen.findByRole('button', { name: 'Connect a vehicle' });
    expect(messages).toEqual([]);
    expect(screen.queryByRole('button', { name: 'Refresh' })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Sign out' })).toBeNull();
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
    expect(status.textContent).toContain('Finish signing in in the window that opened');
    expect(status.textContent).toContain('select Allow');
    expect(screen.queryByRole('button', { name: /Connect/ })).toBeNull();
  });

  it('shows the vehicles as soon as the background stores them', async () => {
    await connectFlowItem.setValue({ status: 'connecting' });
    render(<App />);
    await screen.findByText('Connecting…');

    await vehiclesItem.setValue([makeVehicle()]);
    await connectFlowItem.setValue({ status: 'idle' });

    expect(await screen.findByRole('article', { name: '2021 Tesla Model 3' })).toBeTruthy();
    expect(screen.queryByText('Connecting…')).toBeNull();
    expect(button('Connect another vehicle')).toBeTruthy();
  });
});

describe('connected', () => {
  beforeEach(async () => {
    await sessionItem.setValue('session-1');
    await vehiclesItem.setValue([
      makeVehicle(),
      makeVehicle({ id: 'veh-ford', make: 'Ford', model: 'Mustang', year: 2021 }),
    ]);
  });

  it('shows a card per vehicle and asks the background for fresh data on open', async () => {
    render(<App />);

    const list = await screen.findByRole('region', { name: 'Your vehicles' });
    expect(
      within(list)
        .getAllByRole('article')
        .map((card) => card.getAttribute('aria-labelledby')),
    ).toEqual(['vehicle-veh-tesla', 'vehicle-veh-ford']);
    await vi.waitFor(() => {
      expect(messages).toEqual([{ type: 'refresh' }]);
    });
  });

  it('refreshes on request, and shows it is updating', async () => {
    render(<App />);
    fireEvent.click(await screen.findByRole('button', { name: 'Refresh' }));
    await vi.waitFor(() => {
      expect(messages).toEqual([{ type: 'refresh' }, { type: 'refresh' }]);
    });

    await refreshItem.setValue({ status: 'refreshing' });

    expect(await screen.findByText('Updating…')).toBeTruthy();
    // The label stays, so the header does not move; the button rests until the refresh ends.
    expect(screen.getByRole<HTMLButtonElement>('button', { name: 'Refresh' }).disabled).toBe(true);
    expect(screen.getByRole('banner').getAttribute('aria-busy')).toBe('true');
  });

  it('keeps the saved cards and says what happened and what to do when the refresh fails', async () => {
    await refreshItem.setValue({ status: 'failed', failure: { code: 'server_unreachable' } });

    render(<App />);

    const notice = await screen.findByText(
      'Could not update: Car Connect cannot reach its server. Showing saved data.',
    );
    const status = notice.closest('[role="status"]') as HTMLElement;
    expect(status.textContent).toContain('server address in Options');
    fireEvent.click(within(status).getByRole('button', { name: 'Options' }));
    expect(openOptionsPage).toHaveBeenCalledOnce();
    expect(screen.getAllByRole('article')).toHaveLength(2);
  });

  it('passes each card’s actions to the background', async () => {
    render(<App />);
    const ford = await screen.findByRole('article', { name: '2021 Ford Mustang' });

    fireEvent.click(within(ford).getByRole('button', { name: 'Disconnect' }));
    fireEvent.click(within(ford).getByRole('button', { name: 'Disconnect' }));

    await vi.waitFor(() => {
      expect(messages).toContainEqual({ type: 'disconnect', vehicleId: 'veh-ford' });
    });
  });

  it('shows what a card’s operation is doing', async () => {
    await operationsItem.setValue({ 'veh-ford': { operation: 'DISCONNECT', status: 'pending' } });

    render(<App />);

    const ford = await screen.findByRole('article', { name: '2021 Ford Mustang' });
    expect(within(ford).getByRole('status').textContent).toBe('Disconnecting…');
    expect(ford.getAttribute('aria-busy')).toBe('true');
  });

  it('signs out of everything after asking', async () => {
    render(<App />);

    fireEvent.click(await screen.findByRole('button', { name: 'Sign out' }));
    const question = screen.getByRole('group', { name: 'Sign out' });
    expect(question.textContent).toContain('Every vehicle is disconnected at Smartcar');
    expect(messages).not.toContainEqual({ type: 'signOut' });
    fireEvent.click(within(question).getByRole('button', { name: 'Sign out' }));

    await vi.waitFor(() => {
      expect(messages).toContainEqual({ type: 'signOut' });
    });
  });

  it.each([
    [{ operation: 'SIGN_OUT', status: 'pending' }, 'Signing out…'],
    [
      { operation: 'SIGN_OUT', status: 'failed', failure: { code: 'server_unreachable' } },
      'That did not work: Car Connect cannot reach its server. Check your internet connection and the server address in Options, then try again.',
    ],
  ] as const)('shows the sign-out %j', async (state, text) => {
    await operationsItem.setValue({ session: state });

    render(<App />);

    expect(await screen.findByText(text)).toBeTruthy();
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

describe('failures', () => {
  it.each<[Failure, string, string]>([
    [{ code: 'access_denied' }, 'You chose not to share your vehicle.', 'select Allow'],
    [{ code: 'cancelled' }, 'The sign-in window was closed before you finished.', 'to start again'],
    [
      { code: 'vehicle_incompatible', vehicle: { make: 'AUDI', model: 'A4', year: '2019' } },
      'Your 2019 AUDI A4 cannot be connected.',
      'does not support this vehicle',
    ],
    [
      {
        code: 'vehicle_incompatible',
        vehicle: { make: 'AUDI' },
        requiredPermissions: ['read_odometer', 'control_security'],
      },
      'Your AUDI cannot be connected.',
      'what it requires: Read odometer, Lock and unlock.',
    ],
    [{ code: 'vehicle_incompatible', vehicle: {} }, 'Your vehicle cannot be connected.', 'a different one'],
    [
      { code: 'connect_error', detail: 'No vehicles found.' },
      'Smartcar could not connect your vehicle.',
      'Smartcar said: No vehicles found.',
    ],
    [
      { code: 'rate_limited', retryAfterSeconds: 30 },
      'Too many requests in a short time.',
      'Wait 30 seconds',
    ],
    [{ code: 'rate_limited' }, 'Too many requests in a short time.', 'Wait a minute'],
    [{ code: 'interrupted' }, 'The sign-in was interrupted.', 'to start again'],
    [{ code: 'internal' }, 'Something went wrong.', 'check its logs'],
  ])('explains %j and what to do next', async (failure, title, nextStep) => {
    await connectFlowItem.setValue({ status: 'error', failure });

    render(<App />);

    const alert = await screen.findByRole('alert');
    expect(alert.querySelector('.notice-title')?.textContent).toBe(title);
    expect(alert.textContent).toContain(nextStep);
    expect(within(alert).queryByRole('button')).toBeNull();
    fireEvent.click(button('Connect a vehicle'));
    expect(messages).toEqual([{ type: 'connect' }]);
  });

  it.each([
    [{ code: 'server_unreachable' }, 'Car Connect cannot reach its server.'],
    [{ code: 'redirect_uri_not_allowed' }, 'The server does not accept this copy of Car Connect.'],
    [{ code: 'extension_not_allowed' }, 'The server does not accept this copy of Car Connect.'],
  ] as const)('points %j to the options page', async (failure, title) => {
    await connectFlowItem.setValue({ status: 'error', failure });

    render(<App />);

    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain(title);
    expect(alert.textContent).toContain('Options');
    fireEvent.click(within(alert).getByRole('button', { name: 'Options' }));
    expect(openOptionsPage).toHaveBeenCalledOnce();
  });
});
