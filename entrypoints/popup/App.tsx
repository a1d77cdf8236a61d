import { ConnectingNotice } from '@/components/ConnectingNotice';
import { Notice } from '@/components/Notice';
import { SignOut } from '@/components/SignOut';
import { VehicleRow } from '@/components/VehicleRow';
import { useNow } from '@/hooks/use-now';
import { useStorageItem } from '@/hooks/use-storage-item';
import type { Vehicle } from '@/protocol/server-api';
import { type Failure, isServerWide } from '@/utils/failure';
import { formatAge } from '@/utils/format';
import { t } from '@/utils/i18n';
import { type BackgroundMessage, sendToBackground } from '@/utils/messaging';
import {
  type ConnectFlowState,
  type OperationState,
  type RefreshState,
  SIGN_OUT_KEY,
  connectFlowItem,
  operationsItem,
  pendingConnectionsItem,
  refreshItem,
  vehiclesItem,
  watchUntilItem,
} from '@/utils/storage';
import { type VNode, render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { browser } from 'wxt/browser';
import { type PopupState, forgetCopy, takeCopy, writeCopy } from '@/utils/first-paint-copy';

function send(message: BackgroundMessage): void {
  // Results arrive through storage; a failed send only means the background could not be woken.
  sendToBackground(message).catch((error: unknown) => {
    console.error(`Car Connect: could not send ${message.type}`, error);
  });
}

interface ShownNotice {
  failure: Failure;
  dismiss: () => Promise<void>;
}

/** Every stored failure the popup shows as a notice, one per kind of problem, each with how to put it away. */
function notices(
  flow: ConnectFlowState,
  refresh: RefreshState,
  operations: Record<string, OperationState>,
): ShownNotice[] {
  const shown: ShownNotice[] = [];
  const add = (failure: Failure, dismiss: () => Promise<void>) => {
    if (!shown.some((each) => each.failure.code === failure.code)) shown.push({ failure, dismiss });
  };
  if (flow.status === 'error') add(flow.failure, () => connectFlowItem.setValue({ status: 'idle' }));
  if (refresh.status === 'failed') add(refresh.failure, () => refreshItem.setValue({ status: 'idle' }));
  for (const [key, state] of Object.entries(operations)) {
    if (state.status === 'failed' && isServerWide(state.failure)) {
      add(state.failure, async () => {
        const rest = Object.entries(await operationsItem.getValue()).filter(([other]) => other !== key);
        await operationsItem.setValue(Object.fromEntries(rest));
      });
    }
  }
  return shown;
}

export function App() {
  const [copy] = useState(takeCopy);
  const vehicles = useStorageItem(vehiclesItem, copy?.vehicles);
  const flow = useStorageItem(connectFlowItem, copy?.flow);
  const refresh = useStorageItem(refreshItem, copy?.refresh);
  const operations = useStorageItem(operationsItem, copy?.operations);
  const pendingConnections = useStorageItem(pendingConnectionsItem, copy?.pendingConnections);
  const watchUntil = useStorageItem(watchUntilItem, copy?.watchUntil);
  const now = useNow();

  const state: PopupState | undefined =
    vehicles && flow && refresh && operations
      ? { vehicles, flow, refresh, operations, pendingConnections, watchUntil }
      : undefined;
  const loaded = state !== undefined;
  useEffect(() => {
    // Signing out forgets the vehicles: no copy of them either, whenever the popup closes.
    if (operations?.[SIGN_OUT_KEY]?.status === 'pending') forgetCopy();
    else if (state) writeCopy(state, pictureOf(<PopupView {...state} now={Date.now()} />));
  }, [vehicles, flow, refresh, operations, pendingConnections, watchUntil]);
  useEffect(() => {
    if (!loaded) return;
    // Paint from storage first, and only then ask the server what it has, so the first paint waits
    // on no request; its answer replaces the stored data when the background has it. The message
    // also wakes a background the browser stopped, so it picks up (or lets go of) unfinished work.
    // The frame after the first is the one that starts once the first is on screen.
    let frame = requestAnimationFrame(() => {
      frame = requestAnimationFrame(() => {
        send({ type: 'sync' });
      });
    });
    return () => {
      cancelAnimationFrame(frame);
    };
  }, [loaded]);

  // Without a copy, rendering nothing until storage answers avoids a flash of the wrong state.
  return state ? <PopupView {...state} now={now} /> : null;
}

/**
 * The HTML a fresh render of `view` makes, apart from the page: no row the person opened, no
 * question they were asked, as the next open will show it.
 */
function pictureOf(view: VNode): string {
  const box = document.createElement('div');
  render(view, box);
  const html = box.innerHTML;
  render(null, box);
  return html;
}

/** The title, Refresh once there is something to refresh, Options, and the work under way for screen readers. */
function PopupHeader({ working, canRefresh }: { working: boolean; canRefresh: boolean }) {
  return (
    <>
      {/* While the server works, a bar runs under the header and the button keeps its label: nothing moves. */}
      <header aria-busy={working}>
        <h1>{t('extName')}</h1>
        {canRefresh && (
          <button
            type="button"
            class="ghost"
            disabled={working}
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
        {working && t('refreshing')}
      </p>
    </>
  );
}

/** What the extension does, for a person with nothing connected and nothing on the way. */
function Intro() {
  return (
    <div class="intro">
      <p>{t('intro')}</p>
      <p class="muted">{t('introPrivacy')}</p>
    </div>
  );
}

interface VehicleListProps {
  vehicles: Vehicle[];
  operations: Record<string, OperationState>;
  /** Smartcar has not listed a new connection's vehicles yet: more are coming. */
  moreComing: boolean;
  now: number;
}

function VehicleList({ vehicles, operations, moreComing, now }: VehicleListProps) {
  return (
    <section class="vehicles" aria-label={t('vehiclesLabel')}>
      <ul>
        {vehicles.map((vehicle) => (
          <li key={vehicle.id}>
            <VehicleRow vehicle={vehicle} operation={operations[vehicle.id]} now={now} send={send} />
          </li>
        ))}
      </ul>
      {moreComing && (
        <p class="muted asking" role="status">
          {t('askingForVehicles')}
        </p>
      )}
    </section>
  );
}

/** "Read 3 min ago", after the newest read of any vehicle; nothing before the first. */
function LastRead({ vehicles, now }: { vehicles: Vehicle[]; now: number }) {
  const lastRead = vehicles
    .map((vehicle) => vehicle.fetchedAt)
    .filter((time) => time !== null)
    .sort()
    .at(-1);
  if (!lastRead) return null;
  return (
    <p class="muted" data-age>
      {t('readAgo', formatAge(lastRead, now))}
    </p>
  );
}

interface PopupFooterProps {
  vehicles: Vehicle[];
  connecting: boolean;
  lastSignOut: OperationState | undefined;
  now: number;
}

/** When the vehicles were read, Connect (unless a flow is under way), and signing out. */
function PopupFooter({ vehicles, connecting, lastSignOut, now }: PopupFooterProps) {
  return (
    <footer>
      <LastRead vehicles={vehicles} now={now} />
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
      {/* A server-wide failure of the last sign-out already shows among the notices. */}
      <SignOut
        state={
          lastSignOut?.status === 'failed' && isServerWide(lastSignOut.failure) ? undefined : lastSignOut
        }
        signedIn={vehicles.length > 0}
        testId="sign-out"
        onConfirm={() => {
          forgetCopy();
          send({ type: 'signOut' });
        }}
      />
    </footer>
  );
}

/** The popup as it shows a state at a time: its own state is only which rows are open and what it asks. */
function PopupView({
  vehicles,
  flow,
  refresh,
  operations,
  pendingConnections,
  watchUntil,
  now,
}: PopupState & { now: number }) {
  const connecting = flow.status === 'connecting';
  // The server is working on something the background watches for: a read, a lock, a new connection.
  const working = Boolean(watchUntil) || vehicles.some((vehicle) => vehicle.reading);
  const moreComing = Boolean(pendingConnections);
  return (
    <main class="popup">
      <PopupHeader working={working} canRefresh={vehicles.length > 0} />
      {notices(flow, refresh, operations).map(({ failure, dismiss }) => (
        <Notice key={failure.code} failure={failure} onDismiss={() => void dismiss()} />
      ))}
      {connecting && <ConnectingNotice />}
      {vehicles.length === 0 && !connecting && !moreComing && <Intro />}
      {(vehicles.length > 0 || moreComing) && (
        <VehicleList vehicles={vehicles} operations={operations} moreComing={moreComing} now={now} />
      )}
      <PopupFooter
        vehicles={vehicles}
        connecting={connecting}
        lastSignOut={operations[SIGN_OUT_KEY]}
        now={now}
      />
    </main>
  );
}
