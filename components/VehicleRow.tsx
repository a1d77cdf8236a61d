import type { Vehicle, VehicleData, VehicleReadTimes } from '@/protocol/server-api';
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

/** Whether the person granted this Smartcar permission for the vehicle. */
function granted({ permissions }: Vehicle, permission: string): boolean {
  return permissions.includes(permission);
}

/** One labelled value in the details' list. */
function Fact({ label, children }: { label: string; children: ComponentChildren }) {
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
  const { data, units } = vehicle;
  const kind: keyof VehicleData | undefined = granted(vehicle, 'read_battery')
    ? 'battery'
    : granted(vehicle, 'read_fuel')
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

/** The vehicle's name, and its charge or fuel; until the first read answers, that the car is being asked. */
function Summary({ vehicle, name, headingId }: { vehicle: Vehicle; name: string; headingId: string }) {
  const { make } = vehicle;
  return (
    <div class="vehicle-summary">
      <h2 id={headingId}>{name}</h2>
      {vehicle.reading && !vehicle.fetchedAt ? (
        <span class="muted">{make ? t('askingYourMake', makeName(make)) : t('askingYourCar')}</span>
      ) : (
        <Energy vehicle={vehicle} />
      )}
    </div>
  );
}

/** The lock as last read, for a person allowed to read or change it. */
function LockState({ vehicle }: { vehicle: Vehicle }) {
  if (!granted(vehicle, 'read_security') && !granted(vehicle, 'control_security')) return null;
  const locked = vehicle.data.security?.isLocked;
  return (
    <span class="lock-state" data-testid="lock-state">
      {locked !== undefined && <Icon name={locked ? 'locked' : 'unlocked'} />}
      {locked === undefined ? t('lockUnknown') : locked ? t('locked') : t('unlocked')}
    </span>
  );
}

interface LockToggleProps {
  vehicle: Vehicle;
  /** An operation on this vehicle is under way. */
  pending: boolean;
  send: VehicleRowProps['send'];
}

/** Offers the opposite of the lock as last read; off while an operation or an unconfirmed command is under way. */
function LockToggle({ vehicle, pending, send }: LockToggleProps) {
  if (!granted(vehicle, 'control_security') || vehicle.status !== 'connected') return null;
  const locked = vehicle.data.security?.isLocked;
  return (
    <button
      type="button"
      class="secondary"
      data-testid="lock-toggle"
      disabled={pending || Boolean(vehicle.pendingCommand)}
      onClick={() => {
        send({ type: 'setLock', vehicleId: vehicle.id, action: locked ? 'UNLOCK' : 'LOCK' });
      }}
    >
      {locked ? t('unlock') : t('lock')}
    </button>
  );
}

interface DetailsToggleProps {
  open: boolean;
  onToggle: () => void;
  detailsId: string;
  name: string;
}

function DetailsToggle({ open, onToggle, detailsId, name }: DetailsToggleProps) {
  return (
    <button
      type="button"
      class="icon-button"
      data-testid="vehicle-details-toggle"
      aria-expanded={open}
      aria-controls={detailsId}
      aria-label={t('detailsLabel', name)}
      onClick={onToggle}
    >
      <Icon name="chevron" />
    </button>
  );
}

/** The grant no longer works (taken back or ended): connecting the same make again renews it. */
function Reconnect({ make, send }: { make: string | null; send: VehicleRowProps['send'] }) {
  return (
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
  );
}

/** A link to the last read location on a map, or that it was not read. */
function MapLink({ location, name }: { location: VehicleData['location']; name: string }) {
  if (!location) return <>{t('notRead')}</>;
  return (
    <a href={mapUrl(location)} target="_blank" rel="noreferrer" aria-label={t('showOnMapLabel', name)}>
      {t('showOnMap')}
    </a>
  );
}

/** Model year, odometer, location and this month's billed requests, each only where it applies. */
function Facts({ vehicle, name }: { vehicle: Vehicle; name: string }) {
  const { year, data, units, usage } = vehicle;
  return (
    <dl>
      {year !== null && <Fact label={t('modelYear')}>{year}</Fact>}
      {granted(vehicle, 'read_odometer') && (
        <Fact label={t('odometer')}>
          {data.odometer ? formatDistance(data.odometer.distance, units) : t('notRead')}
        </Fact>
      )}
      {granted(vehicle, 'read_location') && (
        <Fact label={t('location')}>
          <MapLink location={data.location} name={name} />
        </Fact>
      )}
      <Fact label={t('usageLabel')}>{t('usage', usage.billed, usage.budget)}</Fact>
    </dl>
  );
}

/** How old each figure is: a batch item can fail while the others succeed, so each has its own age. */
function Ages({ readAt, now }: { readAt: VehicleReadTimes; now: number }) {
  return (
    <p class="ages">
      <Age what={t('odometer')} iso={readAt.odometer} now={now} />
      <Age what={t('battery')} iso={readAt.battery} now={now} />
      <Age what={t('fuel')} iso={readAt.fuel} now={now} />
      <Age what={t('location')} iso={readAt.location} now={now} />
      <Age what={t('lockState')} iso={readAt.security} now={now} />
    </p>
  );
}

/** Whether the server has read the vehicle yet, when it reads next, and why the last read failed. */
function ReadNotes({ vehicle, now }: { vehicle: Vehicle; now: number }) {
  const { fetchedAt, nextReadAt, lastFailure } = vehicle;
  return (
    <>
      {!fetchedAt && <p class="muted">{t('notReadYet')}</p>}
      {nextReadAt && <p class="muted">{t('nextRead', formatTime(nextReadAt, now))}</p>}
      {lastFailure && <p class="muted">{t('lastReadFailed', describeFailure(lastFailure).title)}</p>}
    </>
  );
}

function PermissionList({ heading, permissions }: { heading: string; permissions: string[] }) {
  return (
    <>
      <h3>{heading}</h3>
      <ul>
        {permissions.map((permission) => (
          <li key={permission}>{describePermission(permission)}</li>
        ))}
      </ul>
    </>
  );
}

/** What the person granted, and what they left out (so they know what connecting again could add). */
function Permissions({ permissions }: { permissions: string[] }) {
  const missing = missingPermissions(permissions);
  return (
    <>
      <PermissionList heading={t('permissionsGranted')} permissions={permissions} />
      {missing.length > 0 && <PermissionList heading={t('permissionsNotGranted')} permissions={missing} />}
    </>
  );
}

interface DetailsProps {
  id: string;
  vehicle: Vehicle;
  name: string;
  now: number;
  /** An operation on this vehicle is under way. */
  pending: boolean;
  send: VehicleRowProps['send'];
}

/** Everything the compact row leaves out, and disconnecting, behind a question. */
function Details({ id, vehicle, name, now, pending, send }: DetailsProps) {
  return (
    <div id={id} class="details">
      <Facts vehicle={vehicle} name={name} />
      <Ages readAt={vehicle.readAt} now={now} />
      <ReadNotes vehicle={vehicle} now={now} />
      <Permissions permissions={vehicle.permissions} />
      <ConfirmAction
        label={t('disconnect')}
        question={t('disconnectConfirm', name)}
        disabled={pending}
        onConfirm={() => {
          send({ type: 'disconnect', vehicleId: vehicle.id });
        }}
      />
    </div>
  );
}

/**
 * One vehicle as a compact row: name, charge or fuel, and the lock as one control offering the
 * opposite action. The row opens for everything else.
 */
export function VehicleRow({ vehicle, operation, now, send }: VehicleRowProps) {
  const [open, setOpen] = useState(false);
  const { id, status } = vehicle;
  const name = vehicleName(vehicle);
  const headingId = `vehicle-${id}`;
  const detailsId = `details-${id}`;
  const pending = operation?.status === 'pending';

  return (
    <article
      class={status === 'reconnect_required' ? 'vehicle stale' : 'vehicle'}
      aria-labelledby={headingId}
      aria-busy={pending || vehicle.reading}
      data-testid="vehicle"
      data-vehicle-id={id}
    >
      <div class="vehicle-row">
        <Summary vehicle={vehicle} name={name} headingId={headingId} />
        <LockState vehicle={vehicle} />
        <LockToggle vehicle={vehicle} pending={pending} send={send} />
        <DetailsToggle
          open={open}
          onToggle={() => {
            setOpen(!open);
          }}
          detailsId={detailsId}
          name={name}
        />
      </div>

      {status === 'reconnect_required' && <Reconnect make={vehicle.make} send={send} />}

      <p class="operation" role="status">
        {operationText(vehicle, operation)}
      </p>

      {open && (
        <Details id={detailsId} vehicle={vehicle} name={name} now={now} pending={pending} send={send} />
      )}
    </article>
  );
}
