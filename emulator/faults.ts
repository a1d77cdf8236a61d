// Fault injection: a test arms a fault for an endpoint, and the next matching calls misbehave.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyReply, FastifyRequest } from 'fastify';

export interface FaultSpec {
  /** Endpoint name as counted by the call log (`token`, `token.refresh_token`, `odometer`, ...) or `*`. */
  endpoint: string;
  /** HTTP status to answer with; derived from `type`/`code` when omitted. */
  status?: number;
  /** Smartcar error type (vehicle API) or OAuth error (token endpoint). */
  type?: string;
  code?: string | null;
  /** Wait this long before answering (or before handling normally when nothing else is set). */
  delayMs?: number;
  /** Destroy the connection without an answer. */
  drop?: boolean;
  /** Seconds, sent as the `retry-after` header; alone it means a 429. */
  retryAfter?: number;
  /** Apply to this many matching calls, then disarm; until cleared when omitted. */
  times?: number;
}

export interface Fault extends FaultSpec {
  id: string;
  /** Calls it will still affect; null means until cleared. */
  remaining: number | null;
}

export class FaultRegistry {
  private faults: Fault[] = [];

  add(spec: FaultSpec): Fault {
    const fault: Fault = { ...spec, id: randomUUID(), remaining: spec.times ?? null };
    this.faults.push(fault);
    return fault;
  }

  remove(id: string): boolean {
    const before = this.faults.length;
    this.faults = this.faults.filter((fault) => fault.id !== id);
    return this.faults.length < before;
  }

  clear(): void {
    this.faults = [];
  }

  list(): Fault[] {
    return this.faults.map((fault) => ({ ...fault }));
  }

  /**
   * Uses up one application of the first armed fault matching any of the names (most specific first),
   * then `*` unless `wildcard` is false. Faults `accept` turns down are skipped and stay armed.
   */
  take(
    endpoints: readonly string[],
    { wildcard = true, accept = () => true }: { wildcard?: boolean; accept?: (fault: Fault) => boolean } = {},
  ): Fault | undefined {
    for (const name of wildcard ? [...endpoints, '*'] : endpoints) {
      const fault = this.faults.find((candidate) => candidate.endpoint === name && accept(candidate));
      if (!fault) continue;
      if (fault.remaining !== null) {
        fault.remaining -= 1;
        if (fault.remaining <= 0) this.remove(fault.id);
      }
      return { ...fault };
    }
    return undefined;
  }
}

/** Whether the fault answers in place of the endpoint (as opposed to only delaying it). */
export function answersInstead(fault: FaultSpec): boolean {
  return fault.status !== undefined || fault.type !== undefined || fault.retryAfter !== undefined;
}

/** Waits, but stops waiting when the client hangs up (a test's timeout must not keep the emulator busy). */
export async function pause(ms: number, request: FastifyRequest): Promise<void> {
  const { socket } = request.raw;
  const hangUp = new AbortController();
  const onClose = () => {
    hangUp.abort();
  };
  socket.once('close', onClose);
  try {
    await sleep(ms, undefined, { signal: hangUp.signal });
  } catch {
    // The client went away; the caller sees the destroyed socket.
  } finally {
    socket.off('close', onClose);
  }
}

/**
 * Plays a fault on a live request. Returns true when the request has been answered (or dropped)
 * and the handler must not run; `answer` sends the endpoint's own error format.
 */
export async function playFault(
  fault: Fault,
  request: FastifyRequest,
  reply: FastifyReply,
  answer: (fault: Fault) => FastifyReply,
): Promise<boolean> {
  if (fault.delayMs !== undefined) await pause(fault.delayMs, request);
  if (fault.drop === true || request.raw.socket.destroyed) {
    reply.hijack();
    request.raw.socket.destroy();
    return true;
  }
  if (!answersInstead(fault)) return false;
  if (fault.retryAfter !== undefined) void reply.header('retry-after', String(fault.retryAfter));
  await answer(fault);
  return true;
}
