import { App } from '@/entrypoints/popup/App';
import type { BackgroundMessage } from '@/utils/messaging';
import { connectFlowItem, refreshItem, sessionItem, vehiclesItem } from '@/utils/storage';
import { cleanup, fireEvent, render, screen } from '@testing-library/preact';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fakeBrowser } from 'wxt/testing/fake-browser';
import { makeVehicle } from './vehicles';

let messages: BackgroundMessage[];

beforeEach(() => {
  fakeBrowser.reset();
  messages = [];
  // Stands in for the background: records what the popup asks for.
  fakeBrowser.runtime.onMessage.addListener((message: unknown) => {
    messages.push(message as BackgroundMessage);
  });
});

afterEach(cleanup);

describe('first run', () => {
  it('says what it does and offers to connect', async () => {
    render(<App />);

    expect(await screen.findByText(/Connect your car through Smartcar/)).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Connect a vehicle' }));

    expect(messages).toEqual([{ type: 'connect' }]);
  });

  it('does not ask for a refresh without a session', async () => {
    render(<App />);

    await screen.findByRole('button', { name: 'Connect a vehicle' });
    expect(messages).toEqual([]);
  });
});

describe('connecting', () => {
  it('points to the sign-in window and hides the connect button', async () => {
    await connectFlowItem.setValue({ status: 'connecting' });

    render(<App />);

    const status = await screen.findByRole('status');
    expect(status.textContent).toContain('Finish signing in in the window that opened.');
    expect(screen.queryByRole('button')).toBeNull();
  });

  it('shows the vehicles as soon as the background stores them', async () => {
    await connectFlowItem.setValue({ status: 'connecting' });
    render(<App />);
    await screen.findByRole('status');

    await vehiclesItem.setValue([makeVehicle()]);
    await connectFlowItem.setValue({ status: 'idle' });

    expect(await screen.findByRole('article', { name: '2021 Tesla Model 3' })).toBeTruthy();
    expect(screen.queryByRole('status')).toBeNull();
    expect(screen.getByRole('button', { name: 'Connect another vehicle' })).toBeTruthy();
  });
});

describe('vehicles', () => {
  beforeEach(async () => {
    await sessionItem.setValue('session-1');
  });

  it('shows a card per vehicle with its figures', async () => {
    await vehiclesItem.setValue([
      makeVehicle(),
      makeVehicle({
        id: 'veh-ford',
        make: 'Ford',
        model: 'F-150',
        year: 2018,
        units: 'imperial',
        data: {
          fuel: { percentRemaining: 0.45, range: 210, amountRemaining: 11 },
          security: { isLocked: false },
        },
      }),
    ]);

    render(<App />);

    const tesla = await screen.findByRole('article', { name: '2021 Tesla Model 3' });
    expect(tesla.textContent).toContain('12,346 km');
    expect(tesla.textContent).toContain('80% · 320 km range');
    expect(tesla.textContent).toContain('Locked');
    const ford = screen.getByRole('article', { name: '2018 Ford F-150' });
    expect(ford.textContent).toContain('45% · 210 mi range');
    expect(ford.textContent).toContain('Unlocked');
    expect(ford.textContent).not.toContain('Odometer');
  });

  it('marks a vehicle that needs reconnecting', async () => {
    await vehiclesItem.setValue([makeVehicle({ status: 'reconnect_required' })]);

    render(<App />);

    expect((await screen.findByRole('article')).textContent).toContain('Needs reconnecting');
  });

  it('asks the background for fresh data on open', async () => {
    await vehiclesItem.setValue([makeVehicle()]);

    render(<App />);

    await screen.findByRole('article');
    await vi.waitFor(() => {
      expect(messages).toEqual([{ type: 'refresh' }]);
    });
  });

  it('keeps the saved cards and says so when the refresh fails', async () => {
    await vehiclesItem.setValue([makeVehicle()]);
    await refreshItem.setValue({ status: 'failed', failure: { code: 'server_unreachable' } });

    render(<App />);

    expect((await screen.findByRole('status')).textContent).toContain('Showing saved data');
    expect(screen.getByRole('article', { name: '2021 Tesla Model 3' })).toBeTruthy();
  });
});

describe('failures', () => {
  it.each([
    [{ code: 'access_denied' }, 'You chose not to share your vehicle.'],
    [{ code: 'cancelled' }, 'The sign-in window was closed before you finished.'],
    [{ code: 'server_unreachable' }, 'Car Connect cannot reach its server.'],
    [
      { code: 'vehicle_incompatible', vehicle: { make: 'AUDI', model: 'A4', year: '2019' } },
      'Your 2019 AUDI A4 cannot be connected.',
    ],
    [{ code: 'vehicle_incompatible', vehicle: {} }, 'Your vehicle cannot be connected.'],
    [{ code: 'connect_error', detail: 'No vehicles found.' }, 'Smartcar said: No vehicles found.'],
    [{ code: 'internal' }, 'Something went wrong.'],
  ] as const)('explains %j with a next step and a way to start again', async (failure, sentence) => {
    await connectFlowItem.setValue({ status: 'error', failure });

    render(<App />);

    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain(sentence);
    expect(alert.querySelectorAll('p')).toHaveLength(2);
    fireEvent.click(screen.getByRole('button', { name: 'Connect a vehicle' }));
    expect(messages).toEqual([{ type: 'connect' }]);
  });
});
