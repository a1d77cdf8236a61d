// Calls the server the way the extension does: JSON bodies, the extension's Origin, a bearer session.
import type { ExchangeResponse, VehiclesResponse } from '../../protocol/server-api';
import { DEV_EXTENSION_ID, chromeRedirectUrl } from '../../protocol/extension-identity';
import { completeConnect, type ConnectChoices } from '../../emulator/connect-driver';
import type { EmulatorControls } from '../../emulator';

export const EXTENSION_ORIGIN = `chrome-extension://${DEV_EXTENSION_ID}`;
export const REDIRECT_URI = chromeRedirectUrl(DEV_EXTENSION_ID);

export interface ApiAnswer<T = unknown> {
  status: number;
  headers: Headers;
  text: string;
  json: T;
}

export function apiClient(serverUrl: string) {
  const call = async <T = unknown>(
    method: string,
    path: string,
    options: { body?: unknown; session?: string; headers?: Record<string, string> } = {},
  ): Promise<ApiAnswer<T>> => {
    const headers: Record<string, string> = { origin: EXTENSION_ORIGIN, ...options.headers };
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    if (options.session) headers.authorization = `Bearer ${options.session}`;
    const response = await fetch(serverUrl + path, {
      method,
      headers,
      ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
    });
    const text = await response.text();
    return {
      status: response.status,
      headers: response.headers,
      text,
      json: (text ? JSON.parse(text) : null) as T,
    };
  };

  /** Connect through the emulator's pages, stopping at the redirect back to the extension. */
  const authorize = async (options: { session?: string; choices?: ConnectChoices } = {}) => {
    const connect = await call<{ url: string; state: string }>('POST', '/api/connect', {
      body: { redirectUri: REDIRECT_URI },
      ...(options.session ? { session: options.session } : {}),
    });
    if (connect.status !== 200) throw new Error(`connect failed: ${connect.text}`);
    const redirect = await completeConnect(connect.json.url, options.choices);
    return {
      code: redirect.searchParams.get('code') ?? '',
      state: redirect.searchParams.get('state') ?? '',
      redirect,
    };
  };

  /**
   * Asks for the vehicles until no read is under way and every connection is listed, the way the
   * extension polls; answers the last list.
   */
  const settled = async (session: string, query = ''): Promise<VehiclesResponse> => {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const answer = await call<VehiclesResponse>('GET', `/api/vehicles${query}`, { session });
      if (answer.status !== 200) throw new Error(`listing vehicles failed: ${answer.text}`);
      const busy = answer.json.pendingConnections > 0 || answer.json.vehicles.some((v) => v.reading);
      if (!busy) return answer.json;
      if (Date.now() > deadline) throw new Error(`vehicles still reading: ${answer.text}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  /** Asks for a read of every vehicle, as the popup's refresh does, and answers once it is done. */
  const readNow = async (session: string): Promise<VehiclesResponse> => {
    const asked = await call('POST', '/api/vehicles/refresh', { session });
    if (asked.status !== 202) throw new Error(`refresh failed: ${asked.status} ${asked.text}`);
    return settled(session);
  };

  /**
   * The whole flow: connect, Connect pages, exchange, then the reads the exchange started (the
   * exchange answers before Smartcar has read the vehicles). `exchange` is the exchange's own answer.
   */
  const connectVehicles = async (options: { session?: string; choices?: ConnectChoices } = {}) => {
    const { code, state } = await authorize(options);
    const exchange = await call<ExchangeResponse>('POST', '/api/exchange', {
      body: { code, state },
      ...(options.session ? { session: options.session } : {}),
    });
    if (exchange.status !== 200) throw new Error(`exchange failed: ${exchange.text}`);
    const list = await settled(exchange.json.session);
    return { ...list, session: exchange.json.session, exchange: exchange.json };
  };

  return { call, authorize, connectVehicles, settled, readNow };
}

export type ApiClient = ReturnType<typeof apiClient>;

/** Seconds an access token lives to need a refresh at first use: inside the server's refresh margin. */
const SHORT_LIVED_SECONDS = 60;

/**
 * Connects a fresh Tesla account at each call, then starts the emulator's call counts afresh.
 * With `expiring`, the account's access token needs a refresh at first use.
 */
export function freshAccounts(api: ApiClient, emulator: EmulatorControls) {
  let accounts = 0;
  return async (options: { expiring?: boolean } = {}) => {
    emulator.setTokenLifetimes({ accessTokenTtlSeconds: options.expiring ? SHORT_LIVED_SECONDS : 7200 });
    const result = await api.connectVehicles({
      choices: { brand: 'TESLA', email: `driver${++accounts}@example.com` },
    });
    emulator.setTokenLifetimes({ accessTokenTtlSeconds: 7200 });
    emulator.resetCalls();
    return result;
  };
}

/** Refresh-token grants the emulator's token endpoint received since its counts last started. */
export const tokenRefreshes = (emulator: EmulatorControls) =>
  emulator.calls().byEndpoint['token.refresh_token'] ?? 0;
