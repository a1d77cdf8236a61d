import type { Vehicle } from '@/protocol/api';
import { describeOperationFailure } from '@/utils/failure-text';
import { formatAge, formatDistance, formatLevel, mapUrl } from '@/utils/format';
import { t } from '@/utils/i18n';
import type { BackgroundMessage } from '@/utils/messaging';
import { describePermission, missingPermissions } from '@/utils/permissions';
import type { OperationState } from '@/utils/storage';
import type { ComponentChildren } from 'preact';
import { ConfirmAction } from './ConfirmAction';

interface VehicleCardProps {
  vehicle: Vehicle;
  /** The last lock, unlock or disconnect asked for on this vehicle. */
  operation?: OperationState | undefined;
  /** Now, in ms, for "updated 2 min ago". */
  now: number;
  send: (message: BackgroundMessage) => void;
}

/** What the card's live region says about the last operation. */
function operationText(operation: OperationState | undefined): string {
  if (!operation) return '';
  if (operation.status === 'failed') return describeOperationFailure(operation.failure);
  const pending = operation.status === 'pending';
  switch (operation.operation) {
    case 'LOCK':
      return pending ? t('locking') : t('lockDone');
    case 'UNLOCK':
      return pending ? t('unlocking') : t('unlockDone');
    default:
      return pending ? t('disconnecting') : '';
  }
}

function Row({ label, children }: { label: string; children: ComponentChildren }) {
  return (
    <div>
      <dt>{label}</dt>
      <dd>{children}</dd>
    </div>
  );
}

/**
 * One vehicle. A row appears for every permission granted, with "Not available" until its figure
 * arrives, so the card keeps its size when data comes in.
 */
export function VehicleCard({ vehicle, operation, now, send }: VehicleCardProps) {
  const { id, year, make, model, units, data, status, fetchedAt, permissions } = vehicle;
  const name = `${year} ${make} ${model}`;
  const headingId = `vehicle-${id}`;
  const granted = (permission: string) => permissions.includes(permission);
  const pending = operation?.status === 'pending';
  const missing = missingPermissions(permissions);
  const level = (reading: { percentRemaining: number; range: number } | undefined) =>
    reading
      ? t('levelAndRange', formatLevel(reading.percentRemaining), formatDistance(reading.range, units))
      : t('notRead');

  return (
    <article
      class={status === 'reconnect_required' ? 'vehicle stale' : 'vehicle'}
      aria-labelledby={headingId}
      aria-busy={pending}
      data-testid="vehicle"
      data-vehicle-id={id}
    >
      <h2 id={headingId}>{name}</h2>

      {status === 'reconnect_required' && (
        <div class="reconnect">
          <p class="badge">{t('reconnectRequired')}</p>
          <p>{t('reconnectHint')}</p>
          <button
            type="button"
            class="primary"
            onClick={() => {
              send({ type: 'connect', make: make ?? undefined });
            }}
          >
            {t('reconnect')}
          </button>
        </div>
      )}

      <dl>
        {granted('read_odometer') && (
          <Row label={t('odometer')}>
            {data.odometer ? formatDistance(data.odometer.distance, units) : t('notRead')}
          </Row>
        )}
        {granted('read_battery') && <Row label={t('battery')}>{level(data.battery)}</Row>}
        {granted('read_fuel') && <Row label={t('fuel')}>{level(data.fuel)}</Row>}
        {granted('read_location') && (
          <Row label={t('location')}>
            {data.location ? (
              <a
                href={mapUrl(data.location)}
                target="_blank"
                rel="noreferrer"
                aria-label={t('showOnMapLabel', name)}
              >
                {t('showOnMap')}
              </a>
            ) : (
              t('notRead')
            )}
          </Row>
        )}
        {(granted('read_security') || granted('control_security')) && (
          <Row label={t('doors')}>
            <span data-testid="lock-state">
              {data.security ? (data.security.isLocked ? t('locked') : t('unlocked')) : t('notRead')}
            </span>
          </Row>
        )}
      </dl>

      {granted('control_security') && status === 'connected' && (
        <div class="actions">
          {(['LOCK', 'UNLOCK'] as const).map((action) => (
            <button
              key={action}
              type="button"
              class="secondary"
              disabled={pending}
              // The button offering the opposite of the doors' state (Lock while unlocked or unknown).
              data-testid={
                action === (data.security?.isLocked ? 'UNLOCK' : 'LOCK') ? 'lock-toggle' : undefined
              }
              onClick={() => {
                send({ type: 'setLock', vehicleId: id, action });
              }}
            >
              {action === 'LOCK' ? t('lock') : t('unlock')}
            </button>
          ))}
        </div>
      )}

      <p class="operation" role="status">
        {operationText(operation)}
      </p>

      <p class="muted">{fetchedAt ? t('updatedAgo', formatAge(fetchedAt, now)) : t('neverUpdated')}</p>

      <details>
        <summary>{t('permissions')}</summary>
        <h3>{t('permissionsGranted')}</h3>
        <ul>
          {permissions.map((permission) => (
            <li key={permission}>{describePermission(permission)}</li>
          ))}
        </ul>
        {missing.length > 0 && (
          <>
            <h3>{t('permissionsNotGranted')}</h3>
            <ul>
              {missing.map((permission) => (
                <li key={permission}>{describePermission(permission)}</li>
              ))}
            </ul>
          </>
        )}
      </details>

      <ConfirmAction
        label={t('disconnect')}
        question={t('disconnectConfirm', name)}
        disabled={pending}
        onConfirm={() => {
          send({ type: 'disconnect', vehicleId: id });
        }}
      />
    </article>
  );
}
