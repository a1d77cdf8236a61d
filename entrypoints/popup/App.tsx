import { ConfirmAction } from '@/components/ConfirmAction';
import { ConnectingNotice } from '@/components/ConnectingNotice';
import { FailureNotice } from '@/components/FailureNotice';
import { VehicleCard } from '@/components/VehicleCard';
import { describeOperationFailure } from '@/utils/failure-text';
import { t } from '@/utils/i18n';
import { type BackgroundMessage, sendToBackground } from '@/utils/messaging';
import {
  SIGN_OUT_KEY,
  connectFlowItem,
  operationsItem,
  refreshItem,
  sessionItem,
  vehiclesItem,
} from '@/utils/storage';
import { useNow } from '@/utils/use-now';
import { useStorageItem } from '@/utils/use-storage-item';
import { useEffect } from 'preact/hooks';
import { browser } from 'wxt/browser';

function send(message: BackgroundMessage): void {
  // Results arrive through storage; a failed send only means the background could not be woken.
  sendToBackground(message).catch((error: unknown) => {
    console.error(`Car Connect: could not send ${message.type}`, error);
  });
}

export function App() {
  const vehicles = useStorageItem(vehiclesItem);
  const flow = useStorageItem(connectFlowItem);
  const refresh = useStorageItem(refreshItem);
  const operations = useStorageItem(operationsItem);
  const now = useNow();

  const loaded = Boolean(vehicles && flow && refresh && operations);
  useEffect(() => {
    if (!loaded) return;
    // Paint from storage first, and only then ask for fresh data, so the first paint waits on no
    // request; fresh data replaces the stored data when the background has it.
    const frame = requestAnimationFrame(() => {
      setTimeout(() => {
        void sessionItem.getValue().then((session) => {
          if (session) send({ type: 'refresh' });
        });
      });
    });
    return () => {
      cancelAnimationFrame(frame);
    };
  }, [loaded]);

  // Storage answers within milliseconds; rendering nothing until then avoids a flash of the wrong state.
  if (!vehicles || !flow || !refresh || !operations) return null;

  const connecting = flow.status === 'connecting';
  const refreshing = refresh.status === 'refreshing';
  const signOut = operations[SIGN_OUT_KEY];
  return (
    <main class="popup">
      {/* While refreshing, a bar runs under the header and the button keeps its label: nothing moves. */}
      <header aria-busy={refreshing}>
        <h1>{t('extName')}</h1>
        {vehicles.length > 0 && (
          <button
            type="button"
            class="ghost"
            disabled={refreshing}
            onClick={() => {
              send({ type: 'refresh' });
            }}
          >
            {t('refresh')}
          </button>
        )}
        <button type="button" class="ghost" onClick={() => void browser.runtime.openOptionsPage()}>
          {t('options')}
        </button>
      </header>
      <p class="visually-hidden" role="status">
        {refreshing && t('refreshing')}
      </p>

      {connecting && <ConnectingNotice />}
      {flow.status === 'error' && <FailureNotice failure={flow.failure} />}
      {vehicles.length === 0 && !connecting && (
        <div class="intro">
          <p>{t('intro')}</p>
          <p class="muted">{t('introPrivacy')}</p>
        </div>
      )}

      {vehicles.length > 0 && (
        <section aria-label={t('vehiclesLabel')}>
          {refresh.status === 'failed' && <FailureNotice failure={refresh.failure} refresh />}
          <ul class="vehicles">
            {vehicles.map((vehicle) => (
              <li key={vehicle.id}>
                <VehicleCard vehicle={vehicle} operation={operations[vehicle.id]} now={now} send={send} />
              </li>
            ))}
          </ul>
        </section>
      )}

      {!connecting && (
        <button
          type="button"
          class="primary"
          data-testid="connect"
          onClick={() => {
            send({ type: 'connect' });
          }}
        >
          {vehicles.length > 0 ? t('connectAnother') : t('connect')}
        </button>
      )}

      {(vehicles.length > 0 || signOut) && (
        <footer>
          <p role="status" class="muted">
            {signOut?.status === 'pending' && t('signingOut')}
            {signOut?.status === 'done' && t('signedOut')}
            {signOut?.status === 'failed' && describeOperationFailure(signOut.failure)}
          </p>
          {vehicles.length > 0 && (
            <ConfirmAction
              label={t('signOut')}
              testId="sign-out"
              question={t('signOutConfirm')}
              disabled={signOut?.status === 'pending'}
              onConfirm={() => {
                send({ type: 'signOut' });
              }}
            />
          )}
        </footer>
      )}
    </main>
  );
}
