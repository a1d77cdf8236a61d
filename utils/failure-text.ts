// Turns each failure into what happened and what to do next, in the user's language.
import type { Failure, FailureCode, IncompatibleVehicle } from './failure';
import { formatDay, formatTime } from './format';
import { t } from './i18n';
import { describePermission } from './permission-words';

export interface FailureText {
  title: string;
  /** What the user can do about it. */
  nextStep: string;
  /** Set when the fix is on the options page (server address, allow-list), so the notice can link there. */
  fixInOptions?: boolean;
  /** Nothing went wrong: the person chose it (closed the window, pressed Back or Deny). */
  neutral?: boolean;
}

function describeVehicle({ year, make, model }: IncompatibleVehicle = {}): string {
  return [year, make, model].filter(Boolean).join(' ') || t('vehicleUnnamed');
}

const startAgain = () => t('failureNext_start_again');
const tryLater = () => t('failureNext_try_later');
const somethingWentWrong = (): FailureText => ({
  title: t('failure_unexpected'),
  nextStep: t('failureNext_unexpected'),
});
const misconfigured = (): FailureText => ({
  title: t('failure_misconfigured'),
  nextStep: t('failureNext_misconfigured'),
  fixInOptions: true,
});
const signInExpired = (): FailureText => ({ title: t('failure_sign_in_expired'), nextStep: startAgain() });
const cancelled = (): FailureText => ({
  title: t('failure_cancelled'),
  nextStep: t('failureNext_cancelled'),
  neutral: true,
});

/** The server on this computer (the development default) is started by hand; any other is set up in Options. */
function isLocalServer(serverUrl: string | undefined): boolean {
  if (!serverUrl) return false;
  const { hostname } = new URL(serverUrl);
  return hostname === '127.0.0.1' || hostname === 'localhost';
}

const failureText: Record<FailureCode, (failure: Failure) => FailureText> = {
  // Back and Deny in Connect redirect with access_denied: the person's choice, not a failure.
  access_denied: cancelled,
  cancelled,
  server_unreachable: ({ detail }) =>
    isLocalServer(detail)
      ? { title: t('failure_server_unreachable', detail ?? ''), nextStep: t('failureNext_start_server') }
      : {
          title: t('failure_server_unreachable', detail ?? ''),
          nextStep: t('failureNext_server_unreachable'),
          fixInOptions: true,
        },
  vehicle_incompatible: ({ vehicle, requiredPermissions = [] }) => ({
    title: t('failure_vehicle_incompatible', describeVehicle(vehicle)),
    nextStep:
      requiredPermissions.length > 0
        ? t('failureNext_vehicle_lacks_permissions', requiredPermissions.map(describePermission).join(', '))
        : t('failureNext_vehicle_incompatible'),
  }),
  auth_page_unavailable: () => ({
    title: t('failure_auth_page_unavailable'),
    nextStep: t('failureNext_check_connection'),
  }),
  connect_error: ({ detail }) => ({
    title: t('failure_connect_error'),
    nextStep: detail ? t('failureNext_smartcar_said', detail) : startAgain(),
  }),
  state_mismatch: () => ({ title: t('failure_state_mismatch'), nextStep: startAgain() }),
  invalid_state: signInExpired,
  invalid_code: signInExpired,
  interrupted: () => ({ title: t('failure_interrupted'), nextStep: startAgain() }),
  operation_interrupted: () => ({
    title: t('failure_operation_interrupted'),
    nextStep: t('failureNext_refresh'),
  }),
  redirect_uri_not_allowed: misconfigured,
  extension_not_allowed: misconfigured,
  rate_limited: ({ retryAt }) => ({
    title: t('failure_rate_limited'),
    nextStep: retryAt ? t('failureNext_retry_at', formatTime(retryAt)) : t('failureNext_wait_a_minute'),
  }),
  request_budget_spent: ({ retryAt }) => ({
    title: t('failure_request_budget_spent'),
    nextStep: retryAt ? t('failureNext_budget_resets', formatDay(retryAt)) : t('failureNext_budget'),
  }),
  upstream_error: () => ({ title: t('failure_upstream_error'), nextStep: tryLater() }),
  upstream_unavailable: () => ({ title: t('failure_upstream_unavailable'), nextStep: tryLater() }),
  reconnect_required: () => ({
    title: t('failure_reconnect_required'),
    nextStep: t('failureNext_reconnect_required'),
  }),
  unauthorized: () => ({ title: t('failure_unauthorized'), nextStep: startAgain() }),
  session_expired: () => ({ title: t('failure_session_expired'), nextStep: startAgain() }),
  not_permitted: () => ({ title: t('failure_not_permitted'), nextStep: t('failureNext_not_permitted') }),
  not_found: () => ({ title: t('failure_not_found'), nextStep: t('failureNext_refresh') }),
  bad_request: somethingWentWrong,
  internal: somethingWentWrong,
  unexpected: somethingWentWrong,
};

export function describeFailure(failure: Failure): FailureText {
  return failureText[failure.code](failure);
}

/** One sentence for a failed lock, unlock, disconnect or sign-out: what happened and what to do. */
export function describeOperationFailure(failure: Failure): string {
  const { title, nextStep } = describeFailure(failure);
  return t('actionFailed', title, nextStep);
}
