import { SignOut } from '@/components/SignOut';
import { useStorageItem } from '@/hooks/use-storage-item';
import type { UnitSystem } from '@/protocol/server-api';
import { t } from '@/utils/i18n';
import { forgetCopy } from '@/utils/first-paint-copy';
import { MAKE_NAMES, vehicleName } from '@/utils/makes';
import { sendToBackground } from '@/utils/messaging';
import { isServerHealthy } from '@/utils/server-client';
import { hostPermissionFor, parseServerUrl } from '@/utils/server-url';
import {
  SIGN_OUT_KEY,
  connectOptionsItem,
  forgetSession,
  operationsItem,
  serverUrlItem,
  sessionItem,
  unitsItem,
  vehiclesItem,
} from '@/utils/storage';
import { useState } from 'preact/hooks';
import { browser } from 'wxt/browser';

type ServerStatus =
  | { kind: 'idle' }
  | { kind: 'checking' }
  | { kind: 'saved'; origin: string }
  | { kind: 'error'; message: string };

/**
 * Asks for the host permission, checks /healthz, and only then saves. The permission request comes
 * first and without an await before it: Firefox grants permissions only inside the click itself.
 */
export async function saveServerUrl(input: string): Promise<ServerStatus> {
  const origin = parseServerUrl(input);
  if (!origin) return { kind: 'error', message: t('serverInvalid') };
  const granted = await browser.permissions.request({ origins: [hostPermissionFor(origin)] });
  if (!granted) return { kind: 'error', message: t('serverPermissionDenied') };
  if (!(await isServerHealthy(origin))) return { kind: 'error', message: t('serverNoAnswer', origin) };
  if (origin !== (await serverUrlItem.getValue())) {
    // The session and vehicles belong to the old server: end them there before switching. Should
    // that server not answer, they are forgotten all the same (a session is only ever sent to the
    // server that issued it).
    if (await sessionItem.getValue()) await sendToBackground({ type: 'signOut' });
    await forgetSession();
    forgetCopy();
    await serverUrlItem.setValue(origin);
  }
  return { kind: 'saved', origin };
}

function ServerSection() {
  const serverUrl = useStorageItem(serverUrlItem);
  const [draft, setDraft] = useState<string>();
  const [status, setStatus] = useState<ServerStatus>({ kind: 'idle' });
  const value = draft ?? serverUrl ?? '';

  return (
    <section aria-labelledby="server-heading">
      <h2 id="server-heading">{t('serverSection')}</h2>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          setStatus({ kind: 'checking' });
          void saveServerUrl(value).then((next) => {
            setStatus(next);
            if (next.kind === 'saved') setDraft(undefined);
          });
        }}
      >
        <label for="server-url">{t('serverUrl')}</label>
        <p id="server-url-hint" class="muted">
          {t('serverUrlHint')}
        </p>
        <div class="field">
          <input
            id="server-url"
            type="url"
            required
            spellcheck={false}
            value={value}
            aria-describedby="server-url-hint server-status"
            aria-invalid={status.kind === 'error'}
            onInput={(event) => {
              setDraft(event.currentTarget.value);
            }}
          />
          <button type="submit" class="primary" disabled={status.kind === 'checking'}>
            {t('save')}
          </button>
        </div>
        <button
          type="button"
          class="ghost"
          onClick={() => {
            setDraft(import.meta.env.WXT_SERVER_URL);
          }}
        >
          {t('useDefault')}
        </button>
        <p id="server-status" role="status" class={status.kind === 'error' ? 'error' : 'ok'}>
          {status.kind === 'checking' && t('checkingServer')}
          {status.kind === 'saved' && t('serverSaved', status.origin)}
          {status.kind === 'error' && status.message}
        </p>
      </form>
    </section>
  );
}

function UnitsSection() {
  const units = useStorageItem(unitsItem);
  const choices: [UnitSystem, string][] = [
    ['metric', t('unitsMetric')],
    ['imperial', t('unitsImperial')],
  ];
  return (
    <fieldset>
      <legend>{t('units')}</legend>
      {choices.map(([value, label]) => (
        <label key={value} class="choice">
          <input
            type="radio"
            name="units"
            value={value}
            checked={units === value}
            onChange={() => void unitsItem.setValue(value)}
          />
          {label}
        </label>
      ))}
    </fieldset>
  );
}

function ConnectSection() {
  const options = useStorageItem(connectOptionsItem);
  if (!options) return null;
  return (
    <fieldset>
      <legend>{t('connectOptions')}</legend>
      <label for="make">{t('preferredMake')}</label>
      <select
        id="make"
        value={options.make ?? ''}
        onChange={(event) =>
          void connectOptionsItem.setValue({ ...options, make: event.currentTarget.value || null })
        }
      >
        <option value="">{t('anyMake')}</option>
        {Object.entries(MAKE_NAMES).map(([make, name]) => (
          <option key={make} value={make}>
            {name}
          </option>
        ))}
      </select>
      <label class="choice">
        <input
          type="checkbox"
          checked={options.singleVehicle}
          onChange={(event) =>
            void connectOptionsItem.setValue({ ...options, singleVehicle: event.currentTarget.checked })
          }
        />
        {t('singleVehicle')}
      </label>
    </fieldset>
  );
}

/** What each vehicle cost this month in billed Smartcar requests, against the server's budget. */
function UsageSection() {
  const vehicles = useStorageItem(vehiclesItem);
  if (!vehicles?.length) return null;
  return (
    <section aria-labelledby="usage-heading">
      <h2 id="usage-heading">{t('usageLabel')}</h2>
      <ul>
        {vehicles.map((vehicle) => (
          <li key={vehicle.id}>
            {`${vehicleName(vehicle)}: ${t('usage', vehicle.usage.billed, vehicle.usage.budget)}`}
          </li>
        ))}
      </ul>
    </section>
  );
}

function AccountSection() {
  const session = useStorageItem(sessionItem);
  const operations = useStorageItem(operationsItem);
  const lastSignOut = operations?.[SIGN_OUT_KEY];
  return (
    <section aria-labelledby="account-heading">
      <h2 id="account-heading">{t('account')}</h2>
      <p class="muted">{t('signOutHint')}</p>
      {/* After a sign-out its status says that no vehicle is connected. */}
      {!session && lastSignOut?.status !== 'done' && <p>{t('notSignedIn')}</p>}
      <SignOut
        state={lastSignOut}
        signedIn={Boolean(session)}
        onConfirm={() => {
          forgetCopy();
          void sendToBackground({ type: 'signOut' });
        }}
      />
    </section>
  );
}

export function Options() {
  return (
    <main class="options">
      <h1>{t('optionsTitle')}</h1>
      <ServerSection />
      <UnitsSection />
      <ConnectSection />
      <UsageSection />
      <AccountSection />
    </main>
  );
}
