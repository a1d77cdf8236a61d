// The one client for the token server. Types come from the protocol; validation stays on the server.
import type {
  ConnectRequest,
  ConnectResponse,
  ErrorBody,
  ExchangeRequest,
  ExchangeResponse,
  VehiclesResponse,
} from '@/protocol/api';
import { type Failure, FailureError } from './failure';
import { serverUrlItem } from './storage';

type Session = string | null;

interface RequestOptions {
  method: 'GET' | 'POST';
  session: Session;
  body?: ConnectRequest | ExchangeRequest;
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

  const payload: unknown = await response.json().catch(() => null);
  if (!response.ok) throw new FailureError(errorFromBody(response.status, payload));
  if (payload === null) throw new FailureError({ code: 'internal', detail: `${path} answered without JSON` });
  return payload as T;
}

function isErrorBody(payload: unknown): payload is ErrorBody {
  if (typeof payload !== 'object' || payload === null || !('error' in payload)) return false;
  const { error } = payload;
  return typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string';
}

/** The server's `{ error: { code, message } }`, or a code guessed from the status when a proxy answered instead. */
function errorFromBody(status: number, payload: unknown): Failure {
  if (isErrorBody(payload)) return { code: payload.error.code, detail: payload.error.message };
  if (status === 401) return { code: 'unauthorized' };
  return { code: status >= 500 ? 'internal' : 'bad_request', detail: `HTTP ${status}` };
}

export const api = {
  connect: (redirectUri: string, session: Session) =>
    request<ConnectResponse>('/api/connect', { method: 'POST', session, body: { redirectUri } }),
  exchange: (exchange: ExchangeRequest, session: Session) =>
    request<ExchangeResponse>('/api/exchange', { method: 'POST', session, body: exchange }),
  vehicles: (session: Session) => request<VehiclesResponse>('/api/vehicles', { method: 'GET', session }),
};
