import { ConnectingNotice } from '@/components/ConnectingNotice';
import { FailureNotice } from '@/components/FailureNotice';
import { VehicleCard } from '@/components/VehicleCard';
import { type BackgroundMessage, sendToBackground } from '@/utils/messaging';
import { connectFlowItem, refreshItem, sessionItem, vehiclesItem } from '@/utils/storage';
import { strings } from '@/utils/strings';
import { useStorageItem } from '@/utils/use-storage-item';
import { useEffect } from 'preact/hooks';

function ask(message: BackgroundMessage): void {
  // Results arrive through storage; a failed send only means the background could not be woken.
  sendToBackground(message).catch((error: unknown) => {
    console.error(`Car Connect: could not send ${message.type}`, error);
  });
}

export function App() {
  const vehicles = useStorageItem(vehiclesItem);
  const flow = useStorageItem(connectFlowItem);
  const refresh = useStorageItem(refreshItem);

  useEffect(() => {
    // Paint from storage first; fresh data replaces it when the background has it.
    void sessionItem.getValue().then((session) => {
      if (session) ask({ type: 'refresh' });
    });
  }, []);

  // Storage answers within milliseconds; rendering nothing until then avoids a flash of the wrong state.
  if (!vehicles || !flow || !refresh) return null;

  const connecting = flow.status === 'connecting';
  return (
    <main class="popup">
      <header>
        <h1>{strings.appName}</h1>
        {refresh.status === 'refreshing' && <span class="muted">{strings.refreshing}</span>}
      </header>

      {connecting && <ConnectingNotice />}
      {flow.status === 'error' && <FailureNotice failure={flow.failure} />}
      {vehicles.length === 0 && flow.status === 'idle' && <p>{strings.intro}</p>}

      {vehicles.length > 0 && (
        <section aria-label={strings.vehiclesLabel}>
          {refresh.status === 'failed' && (
            <p class="muted" role="status">
              {strings.refreshFailed(refresh.failure)}
            </p>
          )}
          <ul class="vehicles">
            {vehicles.map((vehicle) => (
              <li key={vehicle.id}>
                <VehicleCard vehicle={vehicle} />
              </li>
            ))}
          </ul>
        </section>
      )}

      {!connecting && (
        <button
          type="button"
          class="primary"
          onClick={() => {
            ask({ type: 'connect' });
          }}
        >
          {vehicles.length > 0 ? strings.connectAnother : strings.connect}
        </button>
      )}
    </main>
  );
}
