// Every sentence the user reads, in one module so a translation layer can replace it later.
import type { Failure, FailureCode, IncompatibleVehicle } from './failure';

export interface FailureText {
  title: string;
  /** What the user can do about it. */
  nextStep: string;
}

const startAgain = 'Select "Connect a vehicle" to start again.';

function describeVehicle({ year, make, model }: IncompatibleVehicle): string {
  return [year, make, model].filter(Boolean).join(' ') || 'vehicle';
}

const failureText: Record<FailureCode, (failure: Failure) => FailureText> = {
  access_denied: () => ({
    title: 'You chose not to share your vehicle.',
    nextStep: 'To connect it, start again and select Allow on the permissions page.',
  }),
  cancelled: () => ({ title: 'The sign-in window was closed before you finished.', nextStep: startAgain }),
  server_unreachable: () => ({
    title: 'Car Connect cannot reach its server.',
    nextStep:
      'Check your internet connection, or ask whoever runs the server whether it is up, then try again.',
  }),
  vehicle_incompatible: ({ vehicle }) => ({
    title: `Your ${describeVehicle(vehicle ?? {})} cannot be connected.`,
    nextStep: 'Smartcar does not support this vehicle yet. You can connect a different one.',
  }),
  auth_page_unavailable: () => ({
    title: 'The Smartcar sign-in page did not load.',
    nextStep: 'Check your internet connection, then try again.',
  }),
  connect_error: ({ detail }) => ({
    title: 'Smartcar could not connect your vehicle.',
    nextStep: detail ? `Smartcar said: ${detail}` : startAgain,
  }),
  state_mismatch: () => ({ title: 'The sign-in could not be verified.', nextStep: startAgain }),
  invalid_state: () => ({ title: 'The sign-in expired or was already used.', nextStep: startAgain }),
  invalid_code: () => ({ title: 'The sign-in expired or was already used.', nextStep: startAgain }),
  interrupted: () => ({ title: 'The sign-in was interrupted.', nextStep: startAgain }),
  redirect_uri_not_allowed: () => ({
    title: 'The server does not accept this copy of the extension.',
    nextStep: 'Ask whoever runs the server to add this extension ID to EXTENSION_IDS.',
  }),
  rate_limited: () => ({ title: 'Too many attempts.', nextStep: 'Wait a minute, then try again.' }),
  upstream_error: () => ({ title: 'Smartcar reported a problem.', nextStep: 'Try again in a few minutes.' }),
  upstream_unavailable: () => ({
    title: 'Smartcar is not responding.',
    nextStep: 'Try again in a few minutes.',
  }),
  reconnect_required: () => ({
    title: 'Your vehicle needs to be connected again.',
    nextStep: 'Select "Connect another vehicle" and sign in to it again.',
  }),
  unauthorized: () => ({ title: 'You were signed out.', nextStep: startAgain }),
  not_permitted: () => ({
    title: 'This was not allowed when the vehicle was connected.',
    nextStep: 'Connect the vehicle again and allow it on the permissions page.',
  }),
  bad_request: () => somethingWentWrong,
  not_found: () => somethingWentWrong,
  internal: () => somethingWentWrong,
  unexpected: () => somethingWentWrong,
};

const somethingWentWrong: FailureText = {
  title: 'Something went wrong.',
  nextStep: 'Try again. If it keeps happening, ask whoever runs the server to check its logs.',
};

export function describeFailure(failure: Failure): FailureText {
  return failureText[failure.code](failure);
}

export const strings = {
  appName: 'Car Connect',
  intro:
    'Connect your car through Smartcar to see its odometer, battery or fuel level and whether it is locked.',
  connect: 'Connect a vehicle',
  connectAnother: 'Connect another vehicle',
  connectingTitle: 'Connecting…',
  connectingHint: 'Finish signing in in the window that opened.',
  vehiclesLabel: 'Your vehicles',
  refreshing: 'Updating…',
  refreshFailed: (failure: Failure) =>
    `Could not update: ${describeFailure(failure).title} Showing saved data.`,
  odometer: 'Odometer',
  battery: 'Battery',
  fuel: 'Fuel',
  locks: 'Doors',
  locked: 'Locked',
  unlocked: 'Unlocked',
  range: (distance: string) => `${distance} range`,
  reconnectRequired: 'Needs reconnecting',
  updatedAt: (time: string) => `Updated ${time}`,
};
