import type { Vehicle, VehicleData } from '@/protocol/server-api';
import { describeFailure, describeOperationFailure } from '@/utils/failure-text';
import { isServerWide } from '@/utils/failure';
import { formatAge, formatDistance, formatLevel, formatTime, mapUrl } from '@/utils/format';
import { t } from '@/utils/i18n';
import { makeName, vehicleName } from '@/utils/makes';
import type { BackgroundMessage } from '@/utils/messaging';
import { describePermission, missingPermissions } from '@/utils/permission-words';
import type { OperationState } from '@/utils/storage';
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { ConfirmAction } from './ConfirmAction';
import { Icon } from './icons';

interface VehicleRowProps {
  vehicle: Vehicle;
  /** The last lock, unlock or disconnect asked for on this vehicle. */
  operation?: OperationState | undefined;
  /** Now, in ms, for "from 3 h ago". */
  now: number;
  send: (message: BackgroundMessage) => void;
}

/** What the row's live region says about the last operation and a command the car has not confirmed. */
function operationText(vehicle: Vehicle, operation: OperationState | undefined): string {
  if (vehicle.pendingCommand) return t('commandSent');
  if (!operation) return '';
  // A failure about the server or the account shows once, in the popup's notice.
  if (operation.status === 'failed') {
    return isServerWide(operation.failure) ? '' : describeOperationFailure(operation.failure);
  }
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

/** "Location from 3 h ago", with the exact time for anyone who asks. */
function Age({ what, iso, now }: { what: string; iso: string | undefined; now: number }) {
  if (!iso) return null;
  return (
    <time class="muted" dateTime={iso} title={new Date(iso).toLocaleString()}>
      {t('valueFrom', what, formatAge(iso, now))}
    </time>
  );
}

/** Charge or fuel as a meter with its words beside it ("80 % · 320 km range"). */
function Energy({ vehicle }: { vehicle: Vehicle }) {
  const { data, units, permissions } = vehicle;
  const kind: keyof VehicleData | undefined = permissions.includes('read_battery')
    ? 'battery'
    : permissions.includes('read_fuel')
      ? 'fuel'
      : undefined;
  if (!kind) return null;
  const reading = data[kind];
  const label = kind === 'battery' ? t('battery') : t('fuel');
  if (!reading) return <span class="energy muted">{`${label}: ${t('notRead')}`}</span>;
  const words = t(
    'levelAndRange',
    formatLevel(reading.percentRemaining),
    formatDistance(reading.range, units),
  );
  return (
    <span class="energy">
      <meter min={0} max={1} low={0.2} optimum={1} value={reading.percentRemaining} aria-label={label} />
      <span>{words}</span>
    </span>
  );
}

/**
 * One vehicle as a compact row: name, charge or fuel, and the lock as one control offering the
 * opposite action. The row opens for everything else.
 */
export function VehicleRow({ vehicle, operation, now, send }: VehicleRowProps) {
  const [open, setOpen] = useState(false);
  const { id, year, make, units, data, readAt, status, permissions, reading, fetchedAt, usage } = vehicle;
  const name = vehicleName(vehicle);
  const headingId = `vehicle-${id}`;
  const detailsId = `details-${id}`;
  const granted = (permission: string) => permissions.includes(permission);
  const pending = operation?.status === 'pending';
  const missing = missingPermissions(permissions);
  const locked = data.security?.isLocked;
  const canLock = granted('control_security') && status === 'connected';

  return (
    <article
      class={status === 'reconnect_required' ? 'vehicle stale' : 'vehicle'}
      aria-labelledby={headingId}
      aria-busy={pending || reading}
      data-testid="vehicle"
      data-vehicle-id={id}
    >
      <div class="vehicle-row">
        <div class="vehicle-summary">
          <h2 id={headingId}>{name}</h2>
          {reading && !fetchedAt ? (
            <span class="muted">{make ? t('askingYourMake', makeName(make)) : t('askingYourCar')}</span>
          ) : (
            <Energy vehicle={vehicle} />
          )}
        </div>
        {(granted('read_security') || granted('control_security')) && (
          <span class="lock-state" data-testid="lock-state">
            {locked !== undefined && <Icon name={locked ? 'locked' : 'unlocked'} />}
            {locked === undefined ? t('lockUnknown') : locked ? t('locked') : t('unlocked')}
          </span>
        )}
        {canLock && (
          <button
            type="button"
            class="secondary"
            data-testid="lock-toggle"
            disabled={pending || Boolean(vehicle.pendingCommand)}
            onClick={() => {
              send({ type: 'setLock', vehicleId: id, action: locked ? 'UNLOCK' : 'LOCK' });
            }}
          >
            {locked ? t('unlock') : t('lock')}
          </button>
        )}
        <button
          type="button"
          class="icon-button"
          data-testid="vehicle-details-toggle"
          aria-expanded={open}
          aria-controls={detailsId}
          aria-label={t('detailsLabel', name)}
          onClick={() => {
            setOpen(!open);
          }}
        >
          <Icon name="chevron" />
        </button>
      </div>

      {status === 'reconnect_required' && (
        <div class="reconnect">
          <p>
            <strong>{t('reconnectRequired')}</strong> {t('reconnectHint')}
          </p>
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

      <p class="operation" role="status">
        {operationText(vehicle, operation)}
      </p>

      {open && (
        <div id={detailsId} class="details">
          <dl>
            {year !== null && <Row label={t('modelYear')}>{year}</Row>}
            {granted('read_odometer') && (
              <Row label={t('odometer')}>
                {data.odometer ? formatDistance(data.odometer.distance, units) : t('notRead')}
              </Row>
            )}
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
            <Row label={t('usageLabel')}>{t('usage', usage.billed, usage.budget)}</Row>
          </dl>
          <p class="ages">
            <Age what={t('odometer')} iso={readAt.odometer} now={now} />
            <Age what={t('battery')} iso={readAt.battery} now={now} />
            <Age what={t('fuel')} iso={readAt.fuel} now={now} />
            <Age what={t('location')} iso={readAt.location} now={now} />
            <Age what={t('lockState')} iso={readAt.security} now={now} />
          </p>
          {!fetchedAt && <p class="muted">{t('notReadYet')}</p>}
          {vehicle.nextReadAt && <p class="muted">{t('nextRead', formatTime(vehicle.nextReadAt, now))}</p>}
          {vehicle.lastFailure && (
            <p class="muted">{t('lastReadFailed', describeFailure(vehicle.lastFailure).title)}</p>
          )}
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
          <ConfirmAction
            label={t('disconnect')}
            question={t('disconnectConfirm', name)}
            disabled={pending}
            onConfirm={() => {
              send({ type: 'disconnect', vehicleId: id });
            }}
          />
        </div>
      )}
    </article>
  );
}
