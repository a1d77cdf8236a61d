// The one client for the token server. Types come from the protocol; validation stays on the server.
import type {
  ConnectRequest,
  ConnectResponse,
  ErrorBody,
  ExchangeRequest,
  ExchangeResponse,
  SecurityRequest,
  SecurityResponse,
  UnitSystem,
  VehiclesResponse,
} from '@/protocol/api';
import { type Failure, FailureError } from './failure';
import { serverUrlItem } from './storage';

type Session = string | null;

interface RequestOptions {
  method: 'GET' | 'POST' | 'DELETE';
  session: Session;
  body?: ConnectRequest | ExchangeRequest | SecurityRequest;
}

async function request<T>(path: string, { method, session, body }: RequestOptions): Promise<T> {
  const serverUrl = await serverUrlItem.getValue();
  const headers: Record<string, string> = {};
  if (body) headers['content-type'] = 'application/json';
  if (session) headers.authorization = `Bearer ${session}`;

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

/** The server's `{ error: { code, message } }`, or a code guessed from the status when a proxy answered instead. */
function failureFromResponse(response: Response, payload: unknown): Failure {
  const { status } = response;
  // The server answers any origin it does not allow with 403 before routing; not_permitted is the only other 403.
  if (status === 403 && !(isErrorBody(payload) && payload.error.code === 'not_permitted')) {
    return {
      code: 'extension_not_allowed',
      detail: isErrorBody(payload) ? payload.error.message : `HTTP ${status}`,
    };
  }
  const failure: Failure = isErrorBody(payload)
    ? { code: payload.error.code, detail: payload.error.message }
    : status === 401
      ? { code: 'unauthorized' }
      : status === 429
        ? { code: 'rate_limited' }
        : { code: status >= 500 ? 'internal' : 'bad_request', detail: `HTTP ${status}` };
  const retryAfter = Number(response.headers.get('retry-after'));
  if (failure.code === 'rate_limited' && retryAfter > 0) failure.retryAfterSeconds = Math.ceil(retryAfter);
  return failure;
}

const vehicle = (id: string) => `/api/vehicles/${encodeURIComponent(id)}`;

export const api = {
  connect: (body: ConnectRequest, session: Session) =>
    request<ConnectResponse>('/api/connect', { method: 'POST', session, body }),
  exchange: (body: ExchangeRequest, session: Session) =>
    request<ExchangeResponse>('/api/exchange', { method: 'POST', session, body }),
  vehicles: (units: UnitSystem, session: Session) =>
    request<VehiclesResponse>(`/api/vehicles?units=${units}`, { method: 'GET', session }),
  setLock: (id: string, action: SecurityRequest['action'], session: Session) =>
    request<SecurityResponse>(`${vehicle(id)}/security`, { method: 'POST', session, body: { action } }),
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
