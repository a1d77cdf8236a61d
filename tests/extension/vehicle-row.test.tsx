import { VehicleRow } from '@/components/VehicleRow';
import type { Vehicle } from '@/protocol/server-api';
import type { BackgroundMessage } from '@/utils/messaging';
import type { OperationState } from '@/utils/storage';
import { cleanup, fireEvent, render, screen, within } from '@testing-library/preact';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fakeBrowser } from 'wxt/testing/fake-browser';
import { useMessages } from './messages';
import { makeVehicle } from './vehicles';

const READ = Date.parse('2026-01-15T10:30:00.000Z');
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

function renderRow(
  vehicle: Vehicle,
  { operation, now = READ + 2 * 60_000 }: { operation?: OperationState; now?: number } = {},
) {
  render(
    <VehicleRow vehicle={vehicle} operation={operation} now={now} send={(message) => sent.push(message)} />,
  );
  return screen.getByTestId('vehicle');
}

function openDetails(row: HTMLElement): HTMLElement {
  fireEvent.click(within(row).getByTestId('vehicle-details-toggle'));
  const details = row.querySelector<HTMLElement>('.details');
  if (!details) throw new Error('the details did not open');
  return details;
}

/** The details' figures as label → value. */
function figures(details: HTMLElement): Record<string, string> {
  return Object.fromEntries(
    [...details.querySelectorAll('dl > div')].map((row): [string, string] => [
      row.querySelector('dt')?.textContent ?? '',
      row.querySelector('dd')?.textContent ?? '',
    ]),
  );
}

describe('the row', () => {
  it.each([
    ['TESLA', 'Model 3', 'Tesla Model 3'],
    ['BMW', 'i4', 'BMW i4'],
    ['MERCEDES_BENZ', 'EQS', 'Mercedes-Benz EQS'],
    ['Volkswagen', 'ID.4', 'Volkswagen ID.4'],
    ['RENAULT', 'Zoe', 'Renault Zoe'],
  ])('names a %s %s "%s"', (make, model, name) => {
    const row = renderRow(makeVehicle({ make, model }));

    expect(screen.getByRole('article', { name })).toBe(row);
    expect(row.dataset.vehicleId).toBe('veh-tesla');
  });

  it('shows the charge as a meter with its level and range in words', () => {
    const row = renderRow(makeVehicle());

    // A native <meter> (the testing library does not know its implicit role).
    const meter = row.querySelector('meter');
    expect(meter?.getAttribute('aria-label')).toBe('Battery');
    expect(meter?.getAttribute('value')).toBe('0.8');
    expect(row.textContent).toContain('80% · 320 km range');
  });

  it('shows fuel in imperial units', () => {
    const row = renderRow(
      makeVehicle({
        permissions: ['read_fuel'],
        units: 'imperial',
        data: { fuel: { percentRemaining: 0.5, range: 210, amountRemaining: 7 } },
      }),
    );

    expect(row.querySelector('meter')?.getAttribute('aria-label')).toBe('Fuel');
    expect(row.textContent).toContain('50% · 210 mi range');
  });

  it.each([
    ['TESLA', 'Asking your Tesla… this can take up to a minute'],
    [null, 'Asking your car… this can take up to a minute'],
  ])('says it is asking a vehicle not read yet (make %s)', (make, text) => {
    const row = renderRow(
      makeVehicle({ make, model: null, year: null, reading: true, fetchedAt: null, data: {}, readAt: {} }),
    );

    expect(row.textContent).toContain(text);
    expect(row.getAttribute('aria-busy')).toBe('true');
    if (!make) expect(screen.getByRole('article', { name: 'Your vehicle' })).toBe(row);
  });
});

describe('lock control', () => {
  it.each([
    [true, 'Locked', 'Unlock', 'UNLOCK'],
    [false, 'Unlocked', 'Lock', 'LOCK'],
  ] as const)('when isLocked is %s, shows %s and offers only %s', (isLocked, state, offered, action) => {
    const row = renderRow(makeVehicle({ permissions: ALL_PERMISSIONS, data: { security: { isLocked } } }));

    expect(within(row).getByTestId('lock-state').textContent).toBe(state);
    const toggle = within(row).getByTestId('lock-toggle');
    expect(toggle.textContent).toBe(offered);
    expect(within(row).queryAllByRole('button', { name: /^(Lock|Unlock)$/ })).toEqual([toggle]);
    fireEvent.click(toggle);

    expect(sent).toEqual([{ type: 'setLock', vehicleId: 'veh-tesla', action }]);
  });

  it.each([
    [['read_security'], 'Locked', false],
    [['control_security'], 'Locked', true],
    [['read_security', 'control_security'], 'Locked', true],
    [['read_odometer'], null, false],
  ])('with %j shows the state %s and a control: %s', (permissions, state, control) => {
    const row = renderRow(makeVehicle({ permissions }));

    expect(within(row).queryByTestId('lock-state')?.textContent ?? null).toBe(state);
    expect(within(row).queryByTestId('lock-toggle') !== null).toBe(control);
  });

  // After a 202 the background records the operation as done (the request succeeded) and stores the
  // vehicle with its pendingCommand (vehicle-operations.ts): the row must still say the car has not
  // confirmed, not "Unlocked just now".
  it.each([
    ['as the background records it after a 202', { operation: 'UNLOCK', status: 'done' } as const],
    ['with no operation recorded', undefined],
  ])(
    'says a sent command waits for the car, %s, and offers nothing until it confirms',
    (_case, operation) => {
      const row = renderRow(
        makeVehicle({
          permissions: ALL_PERMISSIONS,
          pendingCommand: { action: 'UNLOCK', sentAt: '2026-01-15T10:31:00.000Z' },
        }),
        { operation },
      );

      expect(within(row).getByRole('status').textContent).toBe('Sent, waiting for the car to confirm');
      expect(within(row).getByTestId<HTMLButtonElement>('lock-toggle').disabled).toBe(true);
    },
  );

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
      { operation: 'UNLOCK', status: 'failed', failure: { code: 'upstream_unavailable' } },
      'That did not work: Smartcar is not responding. Try again in a few minutes.',
    ],
    // Shown once, in the popup's notice, not on every row.
    [{ operation: 'LOCK', status: 'failed', failure: { code: 'server_unreachable' } }, ''],
  ] as const)('announces %j', (operation, text) => {
    const row = renderRow(makeVehicle({ permissions: ALL_PERMISSIONS }), { operation });

    expect(within(row).getByRole('status').textContent).toBe(text);
  });

  it('disables the control while an operation is pending', () => {
    const row = renderRow(makeVehicle({ permissions: ALL_PERMISSIONS }), {
      operation: { operation: 'LOCK', status: 'pending' },
    });

    expect(row.getAttribute('aria-busy')).toBe('true');
    expect(within(row).getByTestId<HTMLButtonElement>('lock-toggle').disabled).toBe(true);
  });
});

describe('details', () => {
  it('open and close with a button that says whether they are open', () => {
    const row = renderRow(makeVehicle());
    const toggle = within(row).getByRole('button', { name: 'Details of the Tesla Model 3' });
    expect(toggle.getAttribute('aria-expanded')).toBe('false');
    expect(row.querySelector('.details')).toBeNull();

    fireEvent.click(toggle);
    expect(toggle.getAttribute('aria-expanded')).toBe('true');
    expect(document.getElementById(toggle.getAttribute('aria-controls') ?? '')).toBeTruthy();

    fireEvent.click(toggle);
    expect(row.querySelector('.details')).toBeNull();
  });

  it('show the year, odometer, location, use this month and each value’s own age', () => {
    const row = renderRow(
      makeVehicle({
        permissions: ALL_PERMISSIONS,
        data: {
          odometer: { distance: 12345.6 },
          battery: { percentRemaining: 0.8, range: 320 },
          location: { latitude: 52.52, longitude: 13.405 },
          security: { isLocked: true },
        },
        // Each a different age (a batch item can fail while the others succeed), so a value shown
        // with another's time shows the wrong age.
        readAt: {
          odometer: '2026-01-13T09:00:00.000Z',
          battery: '2026-01-15T10:30:00.000Z',
          location: '2026-01-15T07:30:00.000Z',
          security: '2026-01-15T10:27:00.000Z',
        },
        usage: { month: '2026-01', billed: 12, budget: 500 },
      }),
    );
    const details = openDetails(row);

    expect(figures(details)).toEqual({
      'Model year': '2021',
      Odometer: '12,346 km',
      Location: 'Show on map',
      'Use this month': '12 of 500 Smartcar requests used this month',
    });
    const ages = [...details.querySelectorAll('time')].map((time) => time.textContent);
    expect(ages).toEqual([
      'Odometer from 2 days ago',
      'Battery from 2 min. ago',
      'Location from 3 hr. ago',
      'Doors from 5 min. ago',
    ]);
    expect([...details.querySelectorAll('time')].map((time) => time.getAttribute('datetime'))).toEqual([
      '2026-01-13T09:00:00.000Z',
      '2026-01-15T10:30:00.000Z',
      '2026-01-15T07:30:00.000Z',
      '2026-01-15T10:27:00.000Z',
    ]);
  });

  it('list what was allowed and what was not, in words', () => {
    const details = openDetails(renderRow(makeVehicle({ permissions: ['read_odometer'] })));

    expect(details.textContent).toContain('AllowedRead odometer');
    expect(details.textContent).toContain('Not allowed');
    expect(details.textContent).toContain('Lock and unlock');
  });
});

describe('reconnect required', () => {
  it('says so, offers no lock control, and reconnects with the vehicle’s make', () => {
    const row = renderRow(makeVehicle({ status: 'reconnect_required', permissions: ALL_PERMISSIONS }));

    expect(row.textContent).toContain('Needs reconnecting');
    expect(within(row).queryByTestId('lock-toggle')).toBeNull();
    fireEvent.click(within(row).getByRole('button', { name: 'Reconnect' }));

    expect(sent).toEqual([{ type: 'connect', make: 'Tesla' }]);
  });

  it('offers no Reconnect while connected', () => {
    const row = renderRow(makeVehicle());

    expect(within(row).queryByRole('button', { name: 'Reconnect' })).toBeNull();
  });
});

describe('disconnect', () => {
  it('asks first, then disconnects this vehicle', () => {
    const details = openDetails(renderRow(makeVehicle()));

    fireEvent.click(within(details).getByRole('button', { name: 'Disconnect' }));
    const question = within(details).getByRole('group', { name: 'Disconnect' });
    expect(question.textContent).toContain('Disconnect the Tesla Model 3? Car Connect loses access');
    expect(sent).toEqual([]);
    fireEvent.click(within(question).getByRole('button', { name: 'Disconnect' }));

    expect(sent).toEqual([{ type: 'disconnect', vehicleId: 'veh-tesla' }]);
  });

  it('puts the button back, focused, on Escape', () => {
    const details = openDetails(renderRow(makeVehicle()));
    fireEvent.click(within(details).getByRole('button', { name: 'Disconnect' }));
    const question = within(details).getByRole('group', { name: 'Disconnect' });
    expect(document.activeElement?.textContent).toBe('Cancel');

    fireEvent.keyDown(question, { key: 'Escape' });

    expect(document.activeElement).toBe(within(details).getByRole('button', { name: 'Disconnect' }));
    expect(sent).toEqual([]);
  });

  it('announces a disconnect in progress', () => {
    const row = renderRow(makeVehicle(), { operation: { operation: 'DISCONNECT', status: 'pending' } });

    expect(within(row).getByRole('status').textContent).toBe('Disconnecting…');
  });
});
