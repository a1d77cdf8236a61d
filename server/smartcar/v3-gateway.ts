// What the server asks of Smartcar's API v3, on Node's fetch: no SDK sends the application token
// with `sc-user-id` (docs/smartcar-v3.md). Every call carries the application token; every call
// about a vehicle names the Smartcar user whose connection reaches it.
import type { FastifyBaseLogger } from 'fastify';
import type { VehicleData } from '../../protocol/server-api';
import { upstreamError, type UpstreamError } from '../http/api-errors';
import { KM_PER_MILE, LITRES_PER_GALLON } from '../vehicles/units';
import { ApplicationTokenRejected, type ApplicationToken } from './application-token';
import type { Attributes, BatchReading, PopupFigure, ReadRequest } from './gateway';

/** A connection's page size when listing: Smartcar's largest. */
const PAGE_SIZE = 100;

/** One signal as docs /api-reference/get-signal show it. */
interface Signal {
  attributes: { body: Record<string, unknown> };
}

/** The signals each figure the popup shows is read from (docs /api-reference/signals/*). */
const FIGURE_SIGNALS: Record<PopupFigure, string[]> = {
  odometer: ['odometer-traveleddistance'],
  battery: ['tractionbattery-stateofcharge', 'tractionbattery-range'],
  fuel: [
    'internalcombustionengine-fuellevel',
    'internalcombustionengine-range',
    'internalcombustionengine-amountremaining',
  ],
  location: ['location-preciselocation'],
  security: ['closure-islocked'],
};

/**
 * What a powertrain cannot give (docs /api-reference/signals/schema, `powertrainType`): an
 * electric car has no fuel; a car without a plug has no traction battery to read (assumed, as
 * v2.0 answers COMPATIBILITY for it). Such a figure is never asked for.
 */
const LACKS: Record<string, PopupFigure[]> = { BEV: ['fuel'], HEV: ['battery'], ICE: ['battery'] };

interface Connection {
  attributes: {
    permissions?: string[];
    vehicle?: { make?: string; model?: string; year?: number; powertrainType?: string };
  };
  relationships: { vehicle: { data: { id: string } } };
}

export class SmartcarV3 {
  constructor(
    private readonly origin: string,
    private readonly token: ApplicationToken,
    private readonly timeoutMs: number,
    private readonly log: FastifyBaseLogger,
  ) {}

  /** The vehicles the Smartcar user has connected to this application (free), paging to the end. */
  async vehicleIds(smartcarUserId: string): Promise<string[]> {
    const ids: string[] = [];
    for (let page = 1; ; page++) {
      const answer = (await this.get('connections', '/v3/connections', {
        query: { 'filter[userId]': smartcarUserId, page: String(page), pageSize: String(PAGE_SIZE) },
      })) as { data: Connection[]; meta: { totalCount: number } };
      ids.push(...answer.data.map((connection) => connection.relationships.vehicle.data.id));
      if (answer.data.length === 0 || ids.length >= answer.meta.totalCount) return ids;
    }
  }

  /** The permissions the connection holds, the vehicle's make, model and year, and what it lacks (free). */
  async connection(
    smartcarUserId: string,
    vehicleId: string,
  ): Promise<{ permissions: string[]; attributes?: Attributes; incapable: PopupFigure[] }> {
    const answer = (await this.get('connection', '/v3/connections', {
      query: { 'filter[userId]': smartcarUserId, 'filter[vehicleId]': vehicleId },
      vehicleId,
    })) as { data: Connection[] };
    const [connection] = answer.data;
    // No connection: the owner removed it at Smartcar, as a v2 disconnect would answer.
    if (!connection) throw this.failed({ call: 'connection', vehicleId }, 403);
    const { permissions = [], vehicle } = connection.attributes;
    const incapable = LACKS[vehicle?.powertrainType ?? ''] ?? [];
    const attributes =
      vehicle?.make && vehicle.model && vehicle.year
        ? { make: vehicle.make, model: vehicle.model, year: vehicle.year }
        : undefined;
    return attributes ? { permissions, attributes, incapable } : { permissions, incapable };
  }

  /**
   * Removes the Smartcar user's connection to the vehicle (docs /api-reference/vehicles-api-intro,
   * "Remove Connection"); one already gone counts as removed, as a v2 disconnect answers.
   */
  async disconnect(smartcarUserId: string, vehicleId: string): Promise<void> {
    const answer = (await this.request('GET', 'connections', '/v3/connections', {
      query: { 'filter[userId]': smartcarUserId, 'filter[vehicleId]': vehicleId },
      vehicleId,
    })) as { data: { id: string }[] };
    for (const { id } of answer.data) {
      await this.request('DELETE', 'disconnect', `/v3/connections/${encodeURIComponent(id)}`, {
        vehicleId,
        gone: 404,
      });
    }
  }

  /** Reads the figures asked for, each from its signals; one failed signal fails only its figure. */
  async readSignals(vehicleId: string, smartcarUserId: string, request: ReadRequest): Promise<BatchReading> {
    const reading: BatchReading = { data: {}, failures: [], billed: 0 };
    await Promise.all(
      request.figures.map(async (figure) => {
        try {
          const bodies = await Promise.all(
            FIGURE_SIGNALS[figure].map(async (code) => {
              const signal = (await this.get(
                'signal',
                `/v3/vehicles/${encodeURIComponent(vehicleId)}/signals/${code}`,
                {
                  userId: smartcarUserId,
                  vehicleId,
                },
              )) as Signal;
              reading.billed += 1;
              return signal.attributes.body;
            }),
          );
          Object.assign(reading.data, { [figure]: figureValue(figure, bodies) });
        } catch (error) {
          if (error instanceof ApplicationTokenRejected) throw error;
          reading.failures.push({ item: figure, error: error as UpstreamError });
        }
      }),
    );
    return reading;
  }

  private get(
    call: string,
    path: string,
    options: { query?: Record<string, string>; userId?: string; vehicleId?: string },
  ): Promise<unknown> {
    return this.request('GET', call, path, options);
  }

  /**
   * A call with the application token (asked for again once if refused), answering the parsed
   * body; `gone` is a status that means the thing is already gone, answered as done.
   */
  private request(
    method: 'GET' | 'DELETE',
    call: string,
    path: string,
    options: { query?: Record<string, string>; userId?: string; vehicleId?: string; gone?: number },
  ): Promise<unknown> {
    const url = new URL(path, this.origin);
    for (const [name, value] of Object.entries(options.query ?? {})) url.searchParams.set(name, value);
    return this.token.withToken(async (token) => {
      let response: Response;
      try {
        response = await fetch(url, {
          method,
          headers: {
            authorization: `Bearer ${token}`,
            ...(options.userId ? { 'sc-user-id': options.userId } : {}),
          },
          signal: AbortSignal.timeout(this.timeoutMs),
        });
      } catch (error) {
        const cause = error as { name?: string } | null;
        this.log.warn(
          { smartcar: { call, vehicleId: options.vehicleId, error: cause?.name } },
          'Smartcar could not be reached',
        );
        throw upstreamError({});
      }
      if (response.status === 401) throw new ApplicationTokenRejected();
      if (response.status === options.gone) return undefined;
      const body: unknown = await response.json().catch(() => undefined);
      if (!response.ok)
        throw this.failed({ call, vehicleId: options.vehicleId }, response.status, body, response);
      return body;
    });
  }

  /** A v3 error body (`{ errors: [{ status, type, code }] }`) as the API's error, with the operator's line. */
  private failed(
    context: { call: string; vehicleId?: string | undefined },
    status: number,
    body?: unknown,
    response?: Response,
  ): UpstreamError {
    const [first] = (body as { errors?: { type?: string; code?: string }[] } | undefined)?.errors ?? [];
    const retryAfter = Number(response?.headers.get('retry-after'));
    const detail = {
      status,
      ...(first?.type ? { type: first.type } : {}),
      ...(first?.code ? { code: first.code } : {}),
      ...(Number.isFinite(retryAfter) && retryAfter > 0 ? { retryAfterSeconds: retryAfter } : {}),
    };
    this.log.warn(
      { smartcar: { ...context, status, type: detail.type, errorCode: detail.code } },
      'Smartcar answered with an error',
    );
    return upstreamError(detail);
  }
}

/** A signal's number in the metric units the server stores, whatever unit Smartcar named. */
function metric(body: Record<string, unknown>): number {
  const value = Number(body.value);
  if (body.unit === 'miles') return value * KM_PER_MILE;
  if (body.unit === 'gallons') return value * LITRES_PER_GALLON;
  return value;
}

/** A figure in the shape the popup shows, from its signals' bodies in FIGURE_SIGNALS order. */
function figureValue(figure: PopupFigure, bodies: Record<string, unknown>[]): VehicleData[PopupFigure] {
  const [first = {}, second = {}, third = {}] = bodies;
  switch (figure) {
    case 'odometer':
      return { distance: metric(first) };
    case 'battery':
      return { percentRemaining: metric(first) / 100, range: metric(second) };
    case 'fuel':
      return { percentRemaining: metric(first) / 100, range: metric(second), amountRemaining: metric(third) };
    case 'location':
      return { latitude: Number(first.latitude), longitude: Number(first.longitude) };
    case 'security':
      return { isLocked: first.value === true };
  }
}
