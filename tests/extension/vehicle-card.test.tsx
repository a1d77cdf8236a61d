import { VehicleCard } from '@/components/VehicleCard';
import type { Vehicle } from '@/protocol/api';
import type { BackgroundMessage } from '@/utils/messaging';
import type { OperationState } from '@/utils/storage';
import { cleanup, fireEvent, render, screen, within } from '@testing-library/preact';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fakeBrowser } from 'wxt/testing/fake-browser';
import { useMessages } from './messages';
import { makeVehicle } from './vehicles';

const FETCHED = Date.parse('2026-01-15T10:30:00.000Z');
const ALL_PERMISSIONS = [
  'read_vehicle_info',
  'read_odometer',
  'read_battery',
  'read_location',
  'read_security',
  'control_security',
];

let sent: BackgroundMessage[];

beforeEach(() => {
  fakeBrowser.reset();
  useMessages();
  sent = [];
});
afterEach(() => {
  cleanup();
  vi.restoreAllMocks();
});

function renderCard(
  vehicle: Vehicle,
  { operation, now = FETCHED + 2 * 60_000 }: { operation?: OperationState; now?: number } = {},
) {
  render(
    <VehicleCard vehicle={vehicle} operation={operation} now={now} send={(message) => sent.push(message)} />,
  );
  return screen.getByRole('article', { name: `${vehicle.year} ${vehicle.make} ${vehicle.model}` });
}

/** The card's figures as label → value. */
function figures(card: HTMLElement): Record<string, string> {
  const rows = [...card.querySelectorAll('dl > div')];
  return Object.fromEntries(
    rows.map((row): [string, string] => [
      row.querySelector('dt')?.textContent ?? '',
      row.querySelector('dd')?.textContent ?? '',
    ]),
  );
}

describe('figures', () => {
  it('shows an electric car’s odometer, battery and range, location and locks, in metric', () => {
    const card = renderCard(
      makeVehicle({
        permissions: ALL_PERMISSIONS,
        data: {
          odometer: { distance: 12345.6 },
          battery: { percentRemaining: 0.8, range: 320 },
          location: { latitude: 37.4292, longitude: -122.1381 },
          security: { isLocked: true },
        },
      }),
    );

    expect(figures(card)).toEqual({
      Odometer: '12,346 km',
      Battery: '80% · 320 km range',
      Location: 'Show on map',
      Doors: 'Locked',
    });
    const map = within(card).getByRole('link', {
      name: /Show the location of the 2021 Tesla Model 3 on a map/,
    });
    expect(map.getAttribute('href')).toBe(
      'https://www.openstreetmap.org/?mlat=37.42920&mlon=-122.13810#map=16/37.42920/-122.13810',
    );
    expect(map.getAttribute('target')).toBe('_blank');
  });

  it('shows a fuel car’s level and range in imperial units', () => {
    const card = renderCard(
      makeVehicle({
        make: 'Ford',
        model: 'Mustang',
        units: 'imperial',
        permissions: ['read_odometer', 'read_fuel', 'read_security'],
        data: {
          odometer: { distance: 8000 },
          fuel: { percentRemaining: 0.45, range: 210, amountRemaining: 7 },
          security: { isLocked: false },
        },
      }),
    );

    expect(figures(card)).toEqual({ Odometer: '8,000 mi', Fuel: '45% · 210 mi range', Doors: 'Unlocked' });
  });

  it('keeps a row for every granted figure that has not arrived, so nothing jumps when it does', () => {
    const card = renderCard(makeVehicle({ permissions: ALL_PERMISSIONS, data: {}, fetchedAt: null }));

    expect(figures(card)).toEqual({
      Odometer: 'Not available',
      Battery: 'Not available',
      Location: 'Not available',
      Doors: 'Not available',
    });
    expect(card.textContent).toContain('Not read yet');
  });

  it('says how long ago the figures were read', () => {
    expect(renderCard(makeVehicle(), { now: FETCHED + 2 * 60_000 }).textContent).toContain(
      'Updated 2 min. ago',
    );
    cleanup();
    expect(renderCard(makeVehicle(), { now: FETCHED + 3 * 3_600_000 }).textContent).toContain(
      'Updated 3 hr. ago',
    );
  });
});

describe('permissions', () => {
  it('lists what was allowed and what was not, in words', () => {
    const card = renderCard(
      makeVehicle({ permissions: ['read_vehicle_info', 'read_odometer', 'read_battery'] }),
    );

    const details = card.querySelector('details');
    expect(details?.querySelector('summary')?.textContent).toBe('Permissions');
    const [allowed, notAllowed] = [...(details?.querySelectorAll('ul') ?? [])].map((list) =>
      [...list.querySelectorAll('li')].map((item) => item.textContent),
    );
    expect(allowed).toEqual(['Read make, model and year', 'Read odometer', 'Read battery level and range']);
    // An electric car has no tank: fuel is not counted as missing.
    expect(notAllowed).toEqual(['Read location', 'Read lock status', 'Lock and unlock']);
  });

  it('has no "Not allowed" list when everything was allowed', () => {
    const card = renderCard(makeVehicle({ permissions: ALL_PERMISSIONS }));

    expect(card.textContent).not.toContain('Not allowed');
  });
});

describe('lock and unlock', () => {
  const lockable = makeVehicle({ permissions: ALL_PERMISSIONS });

  it('offers Lock and Unlock only with control_security', () => {
    const card = renderCard(makeVehicle({ permissions: ['read_security'] }));

    expect(within(card).queryByRole('button', { name: 'Lock' })).toBeNull();
  });

  it.each([
    ['Lock', 'LOCK'],
    ['Unlock', 'UNLOCK'],
  ] as const)('asks the background to %s', (name, action) => {
    const card = renderCard(lockable);

    fireEvent.click(within(card).getByRole('button', { name }));

    expect(sent).toEqual([{ type: 'setLock', vehicleId: 'veh-tesla', action }]);
  });

  it.each([
    [{ operation: 'LOCK', status: 'pending' }, 'Locking…'],
    [{ operation: 'UNLOCK', status: 'pending' }, 'Unlocking…'],
    [{ operation: 'LOCK', status: 'done' }, 'Locked just now.'],
    [{ operation: 'UNLOCK', status: 'done' }, 'Unlocked just now.'],
    [
      { operation: 'LOCK', status: 'failed', failure: { code: 'not_permitted' } },
      'That did not work: This was not allowed when the vehicle was connected. Reconnect the vehicle and allow it on the permissions page.',
    ],
    [
      { operation: 'LOCK', status: 'failed', failure: { code: 'operation_interrupted' } },
      'That did not work: Car Connect stopped before the answer came. Select Refresh to see what is connected now.',
    ],
    [
      { operation: 'UNLOCK', status: 'failed', failure: { code: 'upstream_unavailable' } },
      'That did not work: Smartcar is not responding. Try again in a few minutes.',
    ],
  ] as const)('announces %j', (operation, text) => {
    const card = renderCard(lockable, { operation });

    expect(within(card).getByRole('status').textContent).toBe(text);
  });

  it('disables the buttons while one is pending', () => {
    const card = renderCard(lockable, { operation: { operation: 'LOCK', status: 'pending' } });

    expect(card.getAttribute('aria-busy')).toBe('true');
    for (const name of ['Lock', 'Unlock', 'Disconnect']) {
      expect(within(card).getByRole<HTMLButtonElement>('button', { name }).disabled).toBe(true);
    }
  });
});

describe('reconnect required', () => {
  it('says so, keeps the old figures, and reconnects with the vehicle’s make', () => {
    const card = renderCard(makeVehicle({ status: 'reconnect_required', permissions: ALL_PERMISSIONS }));

    expect(card.textContent).toContain('Needs reconnecting');
    expect(card.textContent).toContain('Smartcar no longer accepts this connection');
    expect(figures(card).Odometer).toBe('12,346 km');
    expect(within(card).queryByRole('button', { name: 'Lock' })).toBeNull();

    fireEvent.click(within(card).getByRole('button', { name: 'Reconnect' }));

    expect(sent).toEqual([{ type: 'connect', make: 'Tesla' }]);
  });

  it('offers no Reconnect while connected', () => {
    const card = renderCard(makeVehicle());

    expect(within(card).queryByRole('button', { name: 'Reconnect' })).toBeNull();
  });
});

describe('disconnect', () => {
  it('asks first, then disconnects this vehicle', () => {
    const card = renderCard(makeVehicle());

    fireEvent.click(within(card).getByRole('button', { name: 'Disconnect' }));
    const question = within(card).getByRole('group', { name: 'Disconnect' });
    expect(question.textContent).toContain('Disconnect the 2021 Tesla Model 3? Car Connect loses access');
    expect(sent).toEqual([]);
    fireEvent.click(within(question).getByRole('button', { name: 'Disconnect' }));

    expect(sent).toEqual([{ type: 'disconnect', vehicleId: 'veh-tesla' }]);
  });

  it.each([
    [
      'Cancel',
      (question: HTMLElement) => {
        fireEvent.click(within(question).getByRole('button', { name: 'Cancel' }));
      },
    ],
    [
      'Escape',
      (question: HTMLElement) => {
        fireEvent.keyDown(question, { key: 'Escape' });
      },
    ],
  ])('puts the button back, focused, on %s', (_how, dismiss) => {
    const card = renderCard(makeVehicle());
    fireEvent.click(within(card).getByRole('button', { name: 'Disconnect' }));
    const question = within(card).getByRole('group', { name: 'Disconnect' });
    // Cancel takes the focus, so a second Enter does not disconnect.
    expect(document.activeElement?.textContent).toBe('Cancel');

    dismiss(question);

    expect(within(card).queryByRole('group', { name: 'Disconnect' })).toBeNull();
    expect(document.activeElement).toBe(within(card).getByRole('button', { name: 'Disconnect' }));
    expect(sent).toEqual([]);
  });

  it('announces a disconnect in progress', () => {
    const card = renderCard(makeVehicle(), { operation: { operation: 'DISCONNECT', status: 'pending' } });

    expect(within(card).getByRole('status').textContent).toBe('Disconnecting…');
  });
});
