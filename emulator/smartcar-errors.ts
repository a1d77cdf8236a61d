// Smartcar's v2.0 API error catalogue and the OAuth error shape of /oauth/token.
// Descriptions and docURLs follow Smartcar's public error pages
// (https://smartcar.com/docs/errors/api-errors/*; sources per behaviour in emulator/README.md).
import type { FastifyReply, FastifyRequest } from 'fastify';

type ResolutionType = 'RETRY_LATER' | 'REAUTHENTICATE' | 'CONTACT_SUPPORT' | null;

export interface SmartcarErrorBody {
  type: string;
  code: string | null;
  description: string;
  docURL: string;
  statusCode: number;
  requestId: string;
  resolution: { type: ResolutionType };
  suggestedUserMessage?: string;
}

interface CatalogueEntry {
  status: number;
  description: string;
  resolution: ResolutionType;
  suggestedUserMessage?: string;
}

const DOC_PAGES: Record<string, string> = {
  AUTHENTICATION: 'authentication-errors',
  PERMISSION: 'permission-errors',
  VALIDATION: 'validation-errors',
  RESOURCE_NOT_FOUND: 'resource-not-found-errors',
  RATE_LIMIT: 'rate-limit-errors',
  VEHICLE_STATE: 'vehicle-state-errors',
  CONNECTED_SERVICES_ACCOUNT: 'connected-service-errors',
  COMPATIBILITY: 'compatibility-errors',
  UPSTREAM: 'upstream-errors',
  SERVER: 'server-errors',
  BILLING: 'billing-errors',
};

const RETRY_MESSAGE =
  'Your vehicle is temporarily unable to connect to this application. Please be patient while we’re working to resolve this issue.';

/** Keyed by `TYPE` for errors whose code is null, `TYPE.CODE` otherwise. */
const CATALOGUE: Record<string, CatalogueEntry> = {
  AUTHENTICATION: {
    status: 401,
    description:
      'The authorization header is missing or malformed, or it contains invalid or expired authentication credentials. Please check for missing parameters, spelling and casing mistakes, and other syntax issues.',
    resolution: null,
  },
  PERMISSION: {
    status: 403,
    description:
      'Your application has insufficient permissions to access the requested resource. Please prompt the user to re-authenticate using Smartcar Connect.',
    resolution: 'REAUTHENTICATE',
  },
  VALIDATION: {
    status: 400,
    description:
      'Request invalid or malformed. Please check for missing parameters, spelling and casing mistakes, and other syntax issues.',
    resolution: null,
  },
  'VALIDATION.PARAMETER': {
    status: 400,
    description: 'Your request is missing a required parameter or has an invalid parameter value.',
    resolution: null,
  },
  'RESOURCE_NOT_FOUND.PATH': {
    status: 404,
    description: 'The requested resource does not exist. Please check the URL and try again.',
    resolution: null,
  },
  'RESOURCE_NOT_FOUND.VERSION': {
    status: 404,
    description: 'The requested resource does not exist. Please check the version in the URL and try again.',
    resolution: null,
  },
  'RATE_LIMIT.SMARTCAR_API': {
    status: 429,
    description: 'Your application has exceeded its rate limit. Please retry your request in a few minutes.',
    resolution: 'RETRY_LATER',
    suggestedUserMessage: RETRY_MESSAGE,
  },
  'RATE_LIMIT.VEHICLE': {
    status: 429,
    description:
      'You have reached the throttling rate limit for this vehicle. Please see the retry-after header (seconds) for when to retry the request.',
    resolution: 'RETRY_LATER',
  },
  'VEHICLE_STATE.ASLEEP': {
    status: 409,
    description: 'The vehicle is in a sleep state and temporarily unable to perform your request.',
    resolution: 'RETRY_LATER',
    suggestedUserMessage:
      'Your vehicle is in a sleep state. This request was not sent to preserve battery life.',
  },
  'VEHICLE_STATE.CHARGING_IN_PROGRESS': {
    status: 409,
    description: 'The vehicle is currently charging and unable to perform your request.',
    resolution: null,
  },
  'VEHICLE_STATE.UNKNOWN': {
    status: 409,
    description: 'The vehicle was unable to perform your request due to an unknown issue.',
    resolution: 'RETRY_LATER',
  },
  'CONNECTED_SERVICES_ACCOUNT.ACCOUNT_ISSUE': {
    status: 400,
    description:
      'Action needed in the user’s connected services account. Please prompt the user to log into their connected services account and complete any outstanding tasks.',
    resolution: null,
    suggestedUserMessage:
      'Action required in your connected services account. Please log into your connected services app or web portal and complete any outstanding tasks.',
  },
  'CONNECTED_SERVICES_ACCOUNT.AUTHENTICATION_FAILED': {
    status: 400,
    description:
      'Smartcar was unable to authenticate with the user’s connected services account. Please prompt the user to re-authenticate using Smartcar Connect.',
    resolution: 'REAUTHENTICATE',
  },
  'CONNECTED_SERVICES_ACCOUNT.SUBSCRIPTION': {
    status: 400,
    description:
      'The vehicle’s connected services subscription is inactive or does not support the requested feature.',
    resolution: null,
  },
  'CONNECTED_SERVICES_ACCOUNT.VEHICLE_MISSING': {
    status: 400,
    description:
      "This vehicle is no longer associated with the user's connected services account. Please prompt the user to re-add the vehicle to their account.",
    resolution: null,
  },
  'COMPATIBILITY.VEHICLE_NOT_CAPABLE': {
    status: 501,
    description:
      'The vehicle is incapable of performing your request. Please use the Compatibility API to check vehicle capability before making requests.',
    resolution: null,
  },
  'COMPATIBILITY.SMARTCAR_NOT_CAPABLE': {
    status: 501,
    description: 'Smartcar does not yet support this feature for this vehicle.',
    resolution: null,
  },
  'UPSTREAM.NO_RESPONSE': {
    status: 502,
    description:
      'The vehicle manufacturer did not respond to our request. Please retry your request in a few minutes.',
    resolution: 'RETRY_LATER',
    suggestedUserMessage: RETRY_MESSAGE,
  },
  'UPSTREAM.RATE_LIMIT': {
    status: 502,
    description:
      'The vehicle manufacturer has rate limited requests to this vehicle. Please retry your request later.',
    resolution: 'RETRY_LATER',
    suggestedUserMessage: RETRY_MESSAGE,
  },
  'UPSTREAM.UNKNOWN_ISSUE': {
    status: 502,
    description:
      'An unexpected error occurred while communicating with the vehicle manufacturer. Please retry your request in a few minutes.',
    resolution: 'RETRY_LATER',
    suggestedUserMessage: RETRY_MESSAGE,
  },
  'SERVER.INTERNAL': {
    status: 500,
    description:
      'An internal Smartcar error has occurred. Our team has been notified and is working to resolve this issue.',
    resolution: 'RETRY_LATER',
    suggestedUserMessage: RETRY_MESSAGE,
  },
  'BILLING.VEHICLE_REQUEST_LIMIT': {
    status: 430,
    description:
      'You have exceeded the number of API requests that are allowed for this vehicle in the current billing period. Please log into the Smartcar dashboard and visit the Billing tab to learn more.',
    resolution: 'CONTACT_SUPPORT',
  },
  'BILLING.VEHICLE_LIMIT': {
    status: 430,
    description:
      'You have exceeded your active vehicle limit for the current billing period. Please log into the Smartcar dashboard and visit the Billing tab to learn more.',
    resolution: 'CONTACT_SUPPORT',
  },
};

/** The error a status alone stands for, used when a fault names only a status. */
const BY_STATUS: Record<number, readonly [string, string | null]> = {
  400: ['VALIDATION', null],
  401: ['AUTHENTICATION', null],
  403: ['PERMISSION', null],
  404: ['RESOURCE_NOT_FOUND', 'PATH'],
  409: ['VEHICLE_STATE', 'UNKNOWN'],
  429: ['RATE_LIMIT', 'VEHICLE'],
  430: ['BILLING', 'VEHICLE_LIMIT'],
  501: ['COMPATIBILITY', 'VEHICLE_NOT_CAPABLE'],
  502: ['UPSTREAM', 'UNKNOWN_ISSUE'],
};

export function isKnownError(type: string, code: string | null): boolean {
  return catalogueKey(type, code) in CATALOGUE;
}

export function errorForStatus(status: number): readonly [string, string | null] {
  return BY_STATUS[status] ?? ['SERVER', 'INTERNAL'];
}

function catalogueKey(type: string, code: string | null): string {
  return code === null ? type : `${type}.${code}`;
}

function docAnchor(code: string | null): string {
  return code === null ? 'null' : code.toLowerCase().replaceAll('_', '-');
}

/** The page of Smartcar's error docs about this error; `section` `api-errors/v3` for API v3's pages. */
export function errorDocUrl(type: string, code: string | null, section = 'api-errors'): string {
  return `https://smartcar.com/docs/errors/${section}/${DOC_PAGES[type] ?? 'api-errors'}#${docAnchor(code)}`;
}

/** A v2.0 error body. Unknown type/code pairs (from fault injection) still get a well-formed body. */
export function smartcarErrorBody(
  type: string,
  code: string | null,
  requestId: string,
  statusOverride?: number,
): SmartcarErrorBody {
  const entry = CATALOGUE[catalogueKey(type, code)];
  const body: SmartcarErrorBody = {
    type,
    code,
    description: entry?.description ?? `Emulated ${type} error.`,
    docURL: errorDocUrl(type, code),
    statusCode: statusOverride ?? entry?.status ?? 500,
    requestId,
    resolution: { type: entry?.resolution ?? null },
  };
  if (entry?.suggestedUserMessage !== undefined) {
    body.suggestedUserMessage = entry.suggestedUserMessage;
  }
  return body;
}

/**
 * An error the emulator answers the way Smartcar does: raised by the vehicle API and compatibility
 * handlers and the JSON body parser, answered with its v2 body (by the error handler, or as a
 * failed batch item).
 */
export class SmartcarErrorReply extends Error {
  constructor(
    readonly type: string,
    readonly code: string | null = null,
    readonly status?: number,
  ) {
    super(`${type}:${String(code)}`);
  }
}

/** Answers with the v2 body of a SmartcarErrorReply, its status the body's `statusCode`. */
export function sendSmartcarErrorReply(
  request: FastifyRequest,
  reply: FastifyReply,
  error: SmartcarErrorReply,
): FastifyReply {
  const body = smartcarErrorBody(error.type, error.code, request.id, error.status);
  return reply.code(body.statusCode).send(body);
}

export interface OAuthErrorBody {
  error: string;
  error_description: string;
}

/** Thrown by /oauth/token handlers: RFC 6749 section 5.2 errors. */
export class OAuthError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly description: string,
  ) {
    super(`${error}: ${description}`);
  }

  body(): OAuthErrorBody {
    return { error: this.error, error_description: this.description };
  }
}
