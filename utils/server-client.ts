// The one client for the token server. Types come from the protocol; validation stays on the server.
import type {
  ConnectRequest,
  ConnectResponse,
  ErrorBody,
  ExchangeRequest,
  ExchangeResponse,
  RefreshResponse,
  SecurityRequest,
  SecurityResponse,
  UnitSystem,
  VehiclesResponse,
} from '@/protocol/server-api';
import { type Failure, FailureError } from './failure';
import { type Session, serverUrlItem } from './storage';

interface RequestOptions {
  method: 'GET' | 'POST' | 'DELETE';
  /** Requests with a session go to the server that issued it, and only there. */
  session: Session | null;
  body?: ConnectRequest | ExchangeRequest | SecurityRequest;
}

async function request<T>(path: string, { method, session, body }: RequestOptions): Promise<T> {
  const serverUrl = session?.server ?? (await serverUrlItem.getValue());
  const headers: Record<string, string> = {};
  if (body) headers['content-type'] = 'application/json';
  if (session) headers.authorization = `Bearer ${session.token}`;

  let response: Response;
  try {
    response = await fetch(new URL(path, serverUrl), {
      method,
      headers,
      body: body && JSON.stringify(body),
    });
  } catch {
    throw new FailureError({ code: 'server_unreachable', detail: serverUrl });
  }
  if (response.status === 204) return undefined as T;

  const payload: unknown = await response.json().catch(() => null);
  if (!response.ok) throw new FailureError(failureFromResponse(response, payload));
  if (payload === null) throw new FailureError({ code: 'internal', detail: `${path} answered without JSON` });
  return payload as T;
}

function isErrorBody(payload: unknown): payload is ErrorBody {
  if (typeof payload !== 'object' || payload === null || !('error' in payload)) return false;
  const { error } = payload;
  return typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string';
}

/** The server's `{ error: { code, message, retryAt } }`, or a code guessed from the status when a proxy answered instead. */
function failureFromResponse(response: Response, payload: unknown): Failure {
  const { status } = response;
  const failure: Failure = isErrorBody(payload)
    ? { code: payload.error.code, detail: payload.error.message }
    : status === 401
      ? { code: 'unauthorized' }
      : // The server names a refused extension origin itself; a bare 403 came from a proxy in front of it.
        status === 403
        ? { code: 'extension_not_allowed', detail: `HTTP ${status}` }
        : status === 429
          ? { code: 'rate_limited' }
          : { code: status >= 500 ? 'internal' : 'bad_request', detail: `HTTP ${status}` };
  const retryAfter = Number(response.headers.get('retry-after'));
  const retryAt = isErrorBody(payload) ? payload.error.retryAt : undefined;
  if (retryAt) failure.retryAt = retryAt;
  else if (retryAfter > 0) failure.retryAt = new Date(Date.now() + retryAfter * 1000).toISOString();
  return failure;
}

const vehicle = (id: string) => `/api/vehicles/${encodeURIComponent(id)}`;

/**
 * Every call that answers vehicles names the person's units (the exchange in its body): the server
 * reads in metric and converts on each answer, so one without them shows km to someone who chose miles.
 */
const inUnits = (path: string, units: UnitSystem) => `${path}?units=${units}`;

export const serverClient = {
  connect: (body: ConnectRequest, session: Session | null) =>
    request<ConnectResponse>('/api/connect', { method: 'POST', session, body }),
  exchange: (body: ExchangeRequest, session: Session | null) =>
    request<ExchangeResponse>('/api/exchange', { method: 'POST', session, body }),
  vehicles: (units: UnitSystem, session: Session) =>
    request<VehiclesResponse>(inUnits('/api/vehicles', units), { method: 'GET', session }),
  /** Asks the server to read every vehicle now; answers at once with the reads under way. */
  refresh: (units: UnitSystem, session: Session) =>
    request<RefreshResponse>(inUnits('/api/vehicles/refresh', units), { method: 'POST', session }),
  /** 200 with the confirmed lock state, or 202 with `pendingCommand` set until the car confirms. */
  setLock: (id: string, action: SecurityRequest['action'], units: UnitSystem, session: Session) =>
    request<SecurityResponse>(inUnits(`${vehicle(id)}/security`, units), {
      method: 'POST',
      session,
      body: { action },
    }),
  disconnect: (id: string, session: Session) =>
    request<undefined>(vehicle(id), { method: 'DELETE', session }),
  signOut: (session: Session) => request<undefined>('/api/session', { method: 'DELETE', session }),
};

/** Whether a Car Connect server answers /healthz at this address (the options page checks before saving). */
export async function isServerHealthy(serverUrl: string): Promise<boolean> {
  try {
    const response = await fetch(new URL('/healthz', serverUrl));
    const payload: unknown = await response.json();
    return (
      response.ok && typeof payload === 'object' && payload !== null && 'ok' in payload && payload.ok === true
    );
  } catch {
    return false;
  }
}
