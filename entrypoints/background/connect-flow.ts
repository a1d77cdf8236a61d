// The Connect flow, run by the background so it outlives the popup (which closes when the auth window opens).
import type { ConnectRequest, ConnectResponse, ExchangeResponse } from '@/protocol/server-api';
import { browser } from 'wxt/browser';
import { parseConnectRedirect } from '@/utils/connect-redirect';
import { type Failure, FailureError, isSessionGone, toFailure } from '@/utils/failure';
import { smartcarMake } from '@/utils/makes';
import { serverClient } from '@/utils/server-client';
import {
  type Session,
  connectFlowItem,
  connectOptionsItem,
  currentSession,
  forgetSession,
  serverUrlItem,
  sessionItem,
  unitsItem,
} from '@/utils/storage';
import { SingleFlight } from '@/utils/single-flight';
import { acceptVehicles } from './vehicle-sync';

/** The browser allows a single auth window at a time: so one flow at a time. */
const flows = new SingleFlight<void>();
const FLOW = 'connect';

/**
 * Starts a flow, or joins the open one. `make` (a vehicle's make, for Reconnect) overrides the
 * preferred make from the options page.
 */
export function connectVehicle(make?: string): Promise<void> {
  return flows.run(FLOW, () => runConnectFlow(make));
}

/**
 * Called when the background starts. A flow stored as connecting was owned by a service worker that
 * has since stopped, taking the auth window's answer with it, so tell the user to start again.
 */
export async function recoverInterruptedFlow(): Promise<void> {
  const flow = await connectFlowItem.getValue();
  if (flow.status === 'connecting' && !flows.isRunning(FLOW)) {
    await connectFlowItem.setValue({ status: 'error', failure: { code: 'interrupted' } });
  }
}

async function runConnectFlow(make: string | undefined): Promise<void> {
  await connectFlowItem.setValue({ status: 'connecting' });
  try {
    const server = await serverUrlItem.getValue();
    await saveExchange(server, await connectAndExchange(make));
    await connectFlowItem.setValue({ status: 'idle' });
  } catch (error) {
    await connectFlowItem.setValue({ status: 'error', failure: toFailure(error) });
  }
}

async function connectAndExchange(make: string | undefined): Promise<ExchangeResponse> {
  const options = await connectOptionsItem.getValue();
  const request: ConnectRequest = { redirectUri: browser.identity.getRedirectURL() };
  const connectMake = make === undefined ? options.make : smartcarMake(make);
  if (connectMake) request.make = connectMake;
  if (options.singleVehicle) request.singleVehicle = true;

  const { connect, session } = await requestConnectUrl(request);
  const redirect = parseConnectRedirect(await launchAuthWindow(connect.url), connect);
  if (!redirect.ok) throw new FailureError(redirect.failure);
  return serverClient.exchange(
    {
      code: redirect.code,
      state: connect.state,
      units: await unitsItem.getValue(),
      ...(redirect.smartcarUserId ? { smartcarUserId: redirect.smartcarUserId } : {}),
    },
    session,
  );
}

/** Asks as the stored user, so new vehicles join them; a session the server has forgotten starts a new user. */
async function requestConnectUrl(
  request: ConnectRequest,
): Promise<{ connect: ConnectResponse; session: Session | null }> {
  const session = await currentSession();
  try {
    return { connect: await serverClient.connect(request, session), session };
  } catch (error) {
    if (!session || !isSessionGone(toFailure(error))) throw error;
    await forgetSession();
    return { connect: await serverClient.connect(request, null), session: null };
  }
}

async function launchAuthWindow(url: string): Promise<string | undefined> {
  try {
    return await browser.identity.launchWebAuthFlow({ url, interactive: true });
  } catch (error) {
    throw new FailureError(authWindowFailure(error));
  }
}

/**
 * launchWebAuthFlow rejects with a bare message: Chromium's "The user did not approve access." and
 * "Authorization page could not be loaded.", Firefox's "User cancelled or denied access.".
 */
export function authWindowFailure(error: unknown): Failure {
  const message =
    typeof error === 'object' && error !== null && 'message' in error && typeof error.message === 'string'
      ? error.message
      : String(error);
  if (/could not be loaded/i.test(message)) return { code: 'auth_page_unavailable', detail: message };
  if (/did not approve|cancel|interaction required/i.test(message))
    return { code: 'cancelled', detail: message };
  return { code: 'unexpected', detail: message };
}

async function saveExchange(
  server: string,
  { session: token, vehicles, pendingConnections }: ExchangeResponse,
): Promise<void> {
  const session = { server, token };
  await sessionItem.setValue(session);
  // The server answers with all of the user's vehicles, not only the new ones, so its list replaces
  // the stored one. It answers at once and reads the new vehicles in its background; watch until done.
  await acceptVehicles(session, { vehicles, pendingConnections });
}
