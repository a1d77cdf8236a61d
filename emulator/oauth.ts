// POST /oauth/token: the authorization-code and refresh-token grants, with Smartcar's OAuth error bodies;
// POST /oauth2/token: API v3's application token (the client-credentials grant of iam.smartcar.com).
import formbody from '@fastify/formbody';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { EmulatorContext } from './context';
import { OAuthError } from './smartcar-errors';
import { playFault, type Fault } from './faults';
import type { CodeRejection, EmulatorClient, RefreshRejection, Store, TokenPair } from './store';

type Form = Partial<Record<string, string | string[]>>;

const GRANT_TYPES = ['authorization_code', 'refresh_token'] as const;
type GrantType = (typeof GRANT_TYPES)[number];

/**
 * Why a code or refresh token is refused, as the official SDKs' tests show Smartcar answering:
 * a code it cannot redeem is `invalid_request` "Invalid code: …" (smartcar/java-sdk
 * src/integration/java/com/smartcar/sdk/AuthTest.java), a refresh token it does not know is
 * "Invalid refresh_token: …" (smartcar/python-sdk tests/e2e), a used or expired one is
 * `invalid_grant` "Invalid or expired refresh token." (smartcar/node-sdk test/end-to-end), and a
 * redirect URI other than the code's is `invalid_grant` (smartcar/node-sdk issue 137).
 */
function codeRejection(rejection: CodeRejection, code: string): OAuthError {
  return rejection === 'redirect_uri'
    ? new OAuthError(
        400,
        'invalid_grant',
        'Invalid redirect_uri: it does not match the one the code was issued for.',
      )
    : new OAuthError(400, 'invalid_request', `Invalid code: ${code}`);
}

function refreshRejection(rejection: RefreshRejection, refreshToken: string): OAuthError {
  return rejection === 'unknown' || rejection === 'client'
    ? new OAuthError(400, 'invalid_request', `Invalid refresh_token: ${refreshToken}`)
    : new OAuthError(400, 'invalid_grant', 'Invalid or expired refresh token.');
}

/** Statuses for OAuth errors named by an injected fault. */
const OAUTH_STATUS: Record<string, number> = {
  invalid_request: 400,
  invalid_grant: 400,
  unsupported_grant_type: 400,
  invalid_client: 401,
  server_error: 500,
  temporarily_unavailable: 503,
};

/** The OAuth error a fault's bare status stands for. */
function oauthErrorForStatus(status: number): string {
  if (status === 401) return 'invalid_client';
  if (status === 503) return 'temporarily_unavailable';
  if (status === 429) return 'rate_limit';
  return status < 500 ? 'invalid_request' : 'server_error';
}

function field(form: Form, name: string): string | undefined {
  const value = form[name];
  const single = Array.isArray(value) ? value[0] : value;
  // The SDK sends the literal `undefined` when its AuthClient has no redirect URI.
  return single === undefined || single === '' || single === 'undefined' ? undefined : single;
}

/** `Authorization: Basic` client credentials, as the SDK sends them. */
export function basicCredentials(header: string | undefined): [string, string] | undefined {
  const match = /^Basic\s+(\S+)$/i.exec(header ?? '');
  if (!match?.[1]) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : [decoded.slice(0, colon), decoded.slice(colon + 1)];
}

export async function oauthRoutes(app: FastifyInstance, ctx: EmulatorContext): Promise<void> {
  await app.register(formbody);
  app.setErrorHandler(answerAsOAuthError);

  app.post('/oauth/token', async (request, reply) => {
    const form = (request.body ?? {}) as Form;
    const grantType = field(form, 'grant_type');
    const known = GRANT_TYPES.find((type) => type === grantType);
    if (await faultAnswered(ctx, request, reply, form, known)) return reply;

    const client = authenticateClient(ctx.store, request, form);
    if (grantType === undefined) {
      throw new OAuthError(400, 'invalid_request', 'The grant_type parameter is required.');
    }
    if (!known) {
      throw new OAuthError(400, 'unsupported_grant_type', `Unsupported grant_type: ${grantType}.`);
    }
    const pair =
      known === 'authorization_code'
        ? authorizationCodeGrant(ctx.store, client, form)
        : refreshTokenGrant(ctx.store, client, form);
    return sendTokens(reply, pair);
  });

  app.post('/oauth2/token', async (request, reply) => {
    const form = (request.body ?? {}) as Form;
    ctx.calls.record('token.client_credentials');
    const fault = ctx.faults.take(['token.client_credentials']);
    if (fault && (await playFault(fault, request, reply, answerFault(reply)))) return reply;
    const client = clientCredentialsGrant(ctx.store, form);
    const { token, expiresIn } = ctx.store.issueApplicationToken(client.clientId);
    return reply
      .header('cache-control', 'no-store')
      .send({ access_token: token, token_type: 'Bearer', expires_in: expiresIn });
  });
}

/**
 * The client-credentials grant as docs `/api-reference/authorization/request-access-token` shows it:
 * `grant_type`, `client_id` and `client_secret` in the form. The docs name no HTTP Basic here, so the
 * credentials must be in the form (strict): Basic alone is `invalid_client`.
 */
function clientCredentialsGrant(store: Store, form: Form): EmulatorClient {
  if (field(form, 'grant_type') !== 'client_credentials') {
    throw new OAuthError(400, 'invalid_request', 'The grant_type parameter must be client_credentials.');
  }
  const clientId = field(form, 'client_id');
  const client = clientId === undefined ? undefined : store.client(clientId);
  if (!client || client.clientSecret !== field(form, 'client_secret')) {
    throw new OAuthError(401, 'invalid_client', 'Invalid client_id or client_secret.');
  }
  return client;
}

/** Every error of the token endpoint is an OAuth error body; its handlers throw OAuthError. */
function answerAsOAuthError(error: unknown, request: FastifyRequest, reply: FastifyReply) {
  const send = (oauth: OAuthError) => reply.code(oauth.status).send(oauth.body());
  if (error instanceof OAuthError) return send(error);
  // Fastify's own 4xx (unsupported media type, oversized body...) are the client's mistake.
  if (((error as { statusCode?: number }).statusCode ?? 500) < 500) {
    return send(new OAuthError(400, 'invalid_request', 'Missing or malformed request parameters.'));
  }
  request.log.error(error);
  return send(new OAuthError(500, 'server_error', 'The emulator failed unexpectedly.'));
}

/**
 * Counts the call (under `token.<grant_type>` when the type is known, with the refresh token) and
 * plays any armed fault; true when the fault answered in the endpoint's place.
 */
async function faultAnswered(
  { calls, faults }: EmulatorContext,
  request: FastifyRequest,
  reply: FastifyReply,
  form: Form,
  known: GrantType | undefined,
): Promise<boolean> {
  const endpoints = known ? [`token.${known}`, 'token'] : ['token'];
  calls.record(endpoints[0] ?? 'token', known === 'refresh_token' ? field(form, 'refresh_token') : undefined);
  const fault = faults.take(endpoints);
  return fault !== undefined && (await playFault(fault, request, reply, answerFault(reply)));
}

const answerFault = (reply: FastifyReply) => (fault: Fault) => {
  // A named error brings its own status; a bare retry-after means rate limiting.
  const status = fault.status ?? (fault.type === undefined ? 429 : (OAUTH_STATUS[fault.type] ?? 400));
  return reply.code(status).send({
    error: fault.type ?? oauthErrorForStatus(status),
    error_description: 'Injected by the emulator.',
  });
};

/** The application, by `Authorization: Basic` or the form's client_id and client_secret. */
function authenticateClient(store: Store, request: FastifyRequest, form: Form): EmulatorClient {
  const [clientId, clientSecret] = basicCredentials(request.headers.authorization) ?? [
    field(form, 'client_id'),
    field(form, 'client_secret'),
  ];
  const client = clientId === undefined ? undefined : store.client(clientId);
  if (!client || client.clientSecret !== clientSecret) {
    throw new OAuthError(401, 'invalid_client', 'Invalid client_id or client_secret.');
  }
  return client;
}

/** The authorization-code grant: the code redeemed for tokens. */
function authorizationCodeGrant(store: Store, client: EmulatorClient, form: Form): TokenPair {
  const code = field(form, 'code');
  if (code === undefined) throw new OAuthError(400, 'invalid_request', 'The code parameter is required.');
  const result = store.redeemCode(code, client.clientId, field(form, 'redirect_uri'));
  if (typeof result === 'string') throw codeRejection(result, code);
  return result;
}

/** The refresh-token grant: new tokens for the refresh token. */
function refreshTokenGrant(store: Store, client: EmulatorClient, form: Form): TokenPair {
  const refreshToken = field(form, 'refresh_token');
  if (refreshToken === undefined) {
    throw new OAuthError(400, 'invalid_request', 'The refresh_token parameter is required.');
  }
  const result = store.refresh(refreshToken, client.clientId);
  if (typeof result === 'string') throw refreshRejection(result, refreshToken);
  return result;
}

function sendTokens(reply: FastifyReply, pair: TokenPair) {
  return reply.header('cache-control', 'no-store').header('pragma', 'no-cache').send({
    access_token: pair.accessToken,
    token_type: 'Bearer',
    expires_in: pair.expiresIn,
    refresh_token: pair.refreshToken,
  });
}
