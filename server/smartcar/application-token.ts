// API v3's application token: one for the whole process, from IAM's `client_credentials` grant
// (docs /api-reference/authorization/request-access-token). It lasts an hour and has no refresh
// token: a new one is asked for a few minutes before it lapses, by one request at a time while the
// others wait for it, and once more when Smartcar refuses the one in use. Nothing is stored: a
// process that starts asks for its own.
import type { FastifyBaseLogger } from 'fastify';
import { upstreamError, type UpstreamError } from '../http/api-errors';
import type { Clock } from '../lib/clock';
import { SingleFlight } from '../../utils/single-flight';

/** Asked for again this long before it lapses, so no call goes out with a dying token. */
const RENEW_BEFORE_MS = 5 * 60_000;

export interface ApplicationTokenSettings {
  /** Smartcar's IAM (`https://iam.smartcar.com`). */
  iamOrigin: string;
  clientId: string;
  clientSecret: string;
  /** How long the token call may take. */
  timeoutMs: number;
}

/** Smartcar refused the application token a call carried (401). */
export class ApplicationTokenRejected extends Error {
  constructor() {
    super('Smartcar rejected the application token.');
    this.name = 'ApplicationTokenRejected';
  }
}

interface Held {
  token: string;
  expiresAt: number;
}

export class ApplicationToken {
  private held: Held | undefined;
  private readonly requests = new SingleFlight<Held>();

  constructor(
    private readonly settings: ApplicationTokenSettings,
    private readonly clock: Clock,
    private readonly log: FastifyBaseLogger,
  ) {}

  /**
   * Runs a v3 call with the application token. If Smartcar refuses it, a new token is asked for
   * once (unless another call already did) and the call is made again; a second refusal is the
   * operator's to fix, not the person's.
   */
  async withToken<T>(call: (token: string) => Promise<T>): Promise<T> {
    const first = await this.current();
    try {
      return await call(first.token);
    } catch (error) {
      if (!(error instanceof ApplicationTokenRejected)) throw error;
    }
    if (this.held === first) this.held = undefined;
    const second = await this.current();
    try {
      return await call(second.token);
    } catch (error) {
      if (!(error instanceof ApplicationTokenRejected)) throw error;
      this.log.error(
        { smartcar: { call: 'v3' } },
        'Smartcar refused a new application token; check SMARTCAR_CLIENT_ID and SMARTCAR_CLIENT_SECRET',
      );
      throw upstreamError({ status: 401 });
    }
  }

  private async current(): Promise<Held> {
    const held = this.held;
    if (held && held.expiresAt - RENEW_BEFORE_MS > this.clock.now().getTime()) return held;
    return this.requests.run('token', async () => {
      this.held = await this.request();
      return this.held;
    });
  }

  private async request(): Promise<Held> {
    const askedAt = this.clock.now().getTime();
    let response: Response;
    try {
      response = await fetch(new URL('/oauth2/token', this.settings.iamOrigin), {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: this.settings.clientId,
          client_secret: this.settings.clientSecret,
        }),
        signal: AbortSignal.timeout(this.settings.timeoutMs),
      });
    } catch (error) {
      const cause = error as { name?: string } | null;
      this.log.warn(
        { smartcar: { call: 'applicationToken', error: cause?.name } },
        'Smartcar could not be reached',
      );
      throw upstreamError({});
    }
    const body = (await response.json().catch(() => ({}))) as {
      access_token?: unknown;
      expires_in?: unknown;
      error?: unknown;
    };
    if (!response.ok || typeof body.access_token !== 'string' || typeof body.expires_in !== 'number') {
      throw this.refused(response, body.error);
    }
    return { token: body.access_token, expiresAt: askedAt + body.expires_in * 1000 };
  }

  /** The operator's one line for a token call Smartcar did not answer with a token. */
  private refused(response: Response, oauthError: unknown): UpstreamError {
    const type = typeof oauthError === 'string' ? oauthError : undefined;
    this.log.warn(
      { smartcar: { call: 'applicationToken', status: response.status, type } },
      response.status === 401
        ? 'Smartcar refused this server’s credentials; check SMARTCAR_CLIENT_ID and SMARTCAR_CLIENT_SECRET'
        : 'Smartcar answered with an error',
    );
    return upstreamError({ status: response.ok ? 502 : response.status, ...(type ? { type } : {}) });
  }
}
