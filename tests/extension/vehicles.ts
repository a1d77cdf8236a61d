import type { Vehicle } from '@/protocol/server-api';

export function makeVehicle(overrides: Partial<Vehicle> = {}): Vehicle {
  return {
    id: 'veh-tesla',
    make: 'Tesla',
    model: 'Model 3',
    year: 2021,
    permissions: ['read_vehicle_info', 'read_odometer', 'read_battery', 'read_security'],
    status: 'connected',
    units: 'metric',
    data: {
      odometer: { distance: 12345.6 },
      battery: { percentRemaining: 0.8, range: 320 },
      security: { isLocked: true },
    },
    readAt: {
      odometer: '2026-01-15T10:30:00.000Z',
      battery: '2026-01-15T10:30:00.000Z',
      security: '2026-01-15T10:30:00.000Z',
    },
    fetchedAt: '2026-01-15T10:30:00.000Z',
    reading: false,
    nextReadAt: null,
    lastFailure: null,
    pendingCommand: null,
    usage: { month: '2026-01', billed: 5, budget: 500 },
    ...overrides,
  };
}
