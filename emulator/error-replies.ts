// Every error the emulator answers is Smartcar's v2 body (the token endpoint and the control API set
// their own): an unknown path or method, a body Fastify cannot parse, a thrown SmartcarErrorReply.
import type { FastifyInstance } from 'fastify';
import { SmartcarErrorReply, sendSmartcarErrorReply } from './smartcar-errors';

/** Installs the not-found and error handlers on the root instance, so every plugin inherits them. */
export function answerErrorsAsSmartcar(app: FastifyInstance): void {
  app.setNotFoundHandler((request, reply) => {
    const version = /^\/v(\d+(?:\.\d+)?)\//.exec(request.url)?.[1];
    const code = version !== undefined && version !== '2.0' ? 'VERSION' : 'PATH';
    return sendSmartcarErrorReply(request, reply, new SmartcarErrorReply('RESOURCE_NOT_FOUND', code));
  });
  app.setErrorHandler((error, request, reply) => {
    if (error instanceof SmartcarErrorReply) return sendSmartcarErrorReply(request, reply, error);
    // Fastify's own 4xx (bad JSON, unsupported media type, oversized body...) are the client's mistake.
    const status = (error as { statusCode?: number }).statusCode ?? 500;
    if (status < 500) return sendSmartcarErrorReply(request, reply, new SmartcarErrorReply('VALIDATION'));
    request.log.error(error);
    return sendSmartcarErrorReply(request, reply, new SmartcarErrorReply('SERVER', 'INTERNAL'));
  });
}
