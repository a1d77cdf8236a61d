// API v3's error body, `{ errors: [{ status, type, code, title, detail, links: { about } }] }`, for every
// path under /v3 (docs `/api-reference/remove-user`, `/errors/api-errors/v3/authentication-errors`).
// Handlers throw the same SmartcarErrorReply as v2; only the body they are answered with differs.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { SmartcarErrorReply, errorDocUrl, smartcarErrorBody } from './smartcar-errors';

/** Titles and details the v3 docs show, keyed `TYPE.CODE`; other errors fall back on the v2 wording. */
const V3_WORDING: Record<string, { status: number; title: string; detail: string }> = {
  'AUTHENTICATION.UNAUTHORIZED': {
    status: 401,
    title: 'Unauthorized',
    detail: 'The Authorization token is missing or invalid.',
  },
  'AUTHENTICATION.ACCESS_DENIED': {
    status: 403,
    title: 'Access Denied',
    detail: 'The given token does not provide access to the requested resource.',
  },
  'VALIDATION.BAD_REQUEST': {
    status: 400,
    title: 'Bad Request',
    detail: 'The request could not be understood by the server due to malformed syntax.',
  },
  // Seen by a third-party integration against the live API (assumed): a signal read without sc-user-id.
  'VALIDATION.MISSING_PARAMETER': { status: 400, title: 'Missing Parameter', detail: 'missing userId' },
  'RESOURCE_NOT_FOUND.NOT_FOUND': {
    status: 404,
    title: 'Not Found',
    detail: 'The requested resource does not exist.',
  },
};

function titleOf(code: string | null, type: string): string {
  const words = (code ?? type).toLowerCase().split('_');
  return words.map((word) => word.charAt(0).toUpperCase() + word.slice(1)).join(' ');
}

/** Answers a SmartcarErrorReply with the v3 body. */
export function sendV3Error(request: FastifyRequest, reply: FastifyReply, error: SmartcarErrorReply) {
  const wording = V3_WORDING[`${error.type}.${String(error.code)}`];
  const v2 = smartcarErrorBody(error.type, error.code, request.id, error.status ?? wording?.status);
  const status = v2.statusCode;
  return reply.code(status).send({
    errors: [
      {
        status: String(status),
        type: error.type,
        code: error.code,
        title: wording?.title ?? titleOf(error.code, error.type),
        detail: wording?.detail ?? v2.description,
        links: { about: errorDocUrl(error.type, error.code, 'api-errors/v3') },
      },
    ],
  });
}

/** Unknown paths, thrown errors and Fastify's own 4xx under /v3 all get the v3 body. */
export function answerErrorsAsV3(app: FastifyInstance): void {
  app.setNotFoundHandler((request, reply) =>
    sendV3Error(request, reply, new SmartcarErrorReply('RESOURCE_NOT_FOUND', 'NOT_FOUND')),
  );
  app.setErrorHandler((error, request, reply) => {
    if (error instanceof SmartcarErrorReply) return sendV3Error(request, reply, error);
    const status = (error as { statusCode?: number }).statusCode ?? 500;
    if (status < 500) return sendV3Error(request, reply, new SmartcarErrorReply('VALIDATION', 'BAD_REQUEST'));
    request.log.error(error);
    return sendV3Error(request, reply, new SmartcarErrorReply('SERVER', 'INTERNAL'));
  });
}
