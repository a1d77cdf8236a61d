// The Connect flow, run by the background so it outlives the popup (which closes when the auth window opens).
import type { ConnectResponse, ExchangeResponse, Vehicle } from '@/protocol/api';
import { browser } from 'wxt/browser';
import { api } from './api';
import { parseConnectRedirect } from './connect-redirect';
import { type Failure, FailureError, toFailure } from './failure';
import { connectFlowItem, forgetSession, sessionItem, vehiclesItem } from './storage';

let running: Promise<void> | undefined;

/** Starts a flow, or joins the open one: the browser allows a single auth window at a time. */
export function connectVehicle(): Promise<void> {
  running ??= runConnectFlow().finally(() => {
    running = undefined;
  });
  return running;
}

/**
 * Called when the background starts. A flow stored as connecting was owned by a service worker that
 * has since stopped, taking the auth window's answer with it, so tell the user to start again.
 */
export async function recoverInterruptedFlow(): Promise<void> {
  const flow = await connectFlowItem.getValue();
  if (flow.status === 'connecting' && !running) {
    await connectFlowItem.setValue({ status: 'error', failure: { code: 'interrupted' } });
  }
}

async function runConnectFlow(): Promise<void> {
  await connectFlowItem.setValue({ status: 'connecting' });
  try {
    const result = await connectAndExchange();
    await saveExchange(result);
    await connectFlowItem.setValue({ status: 'idle' });
  } catch (error) {
    await connectFlowItem.setValue({ status: 'error', failure: toFailure(error) });
  }
}

async function connectAndExchange(): Promise<ExchangeResponse> {
  const { connect, session } = await requestConnectUrl(browser.identity.getRedirectURL());
  const redirect = parseConnectRedirect(await launchAuthWindow(connect.url), connect.state);
  if (!redirect.ok) throw new FailureError(redirect.failure);
  return api.exchange({ code: redirect.code, state: connect.state }, session);
}

/** Asks as the stored user, so new vehicles join them; a session the server has forgotten starts a new user. */
async function requestConnectUrl(
  redirectUri: string,
): Promise<{ connect: ConnectResponse; session: string | null }> {
  const session = await sessionItem.getValue();
  try {
    return { connect: await api.connect(redirectUri, session), session };
  } catch (error) {
    if (!session || toFailure(error).code !== 'unauthorized') throw error;
    await forgetSession();
    return { connect: await api.connect(redirectUri, null), session: null };
  }
}

async function launchAuthWindow(url: string): Promise<string | undefined> {
  try {
    return await browser.identity.launchWebAuthFlow({ url, interactive: true });
  } catch (error) {
    throw new FailureError(authWindowFailure(error));
  }
}

/** launchWebAuthFlow rejects with a bare message; these are the ones Chromium and Firefox use. */
function authWindowFailure(error: unknown): Failure {
  const message = error instanceof Error ? error.message : String(error);
  if (/could not be loaded/i.test(message)) return { code: 'auth_page_unavailable', detail: message };
  if (/did not approve|cancel|interaction required/i.test(message))
    return { code: 'cancelled', detail: message };
  return { code: 'unexpected', detail: message };
}

async function saveExchange({ session, vehicles }: ExchangeResponse): Promise<void> {
  const previousSession = await sessionItem.getValue();
  // The same session means the new vehicles joined the same user: keep the ones already shown.
  const kept: Vehicle[] = session === previousSession ? await vehiclesItem.getValue() : [];
  const byId = new Map(kept.map((vehicle) => [vehicle.id, vehicle]));
  for (const vehicle of vehicles) byId.set(vehicle.id, vehicle);
  await sessionItem.setValue(session);
  await vehiclesItem.setValue([...byId.values()]);
}
