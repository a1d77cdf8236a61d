// API v3's lock and unlock commands (docs `/api-reference/security/lock-doors`, `unlock-doors`,
// `/api-reference/commands/overview`): 200 with the finished command-execution, or 202 while the car is
// still at it, and the recorded result readable later. The lock state changes when the command completes.
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { EmulatedVehicle } from './fleet';
import { SmartcarErrorReply } from './smartcar-errors';
import { clientOf, enter, notFound, userConnection, type V3 } from './v3-gate';

type Params = { Params: { id: string; executionId: string } };

interface CommandExecution {
  id: string;
  clientId: string;
  vehicleId: string;
  commandType: string;
  executionMode: 'sync' | 'async';
  status: 'PENDING' | 'SUCCESS' | 'FAILED';
  executedAt: number;
  completedAt?: number;
}

/**
 * How long Smartcar keeps a command's request open before answering 202 (assumed: no source gives it),
 * in unscaled ms. A command whose drawn vehicle latency is longer completes in the background.
 */
const SYNC_LIMIT_MS = 10_000;

const COMMANDS = [
  { path: 'lock', endpoint: 'lockDoors', commandType: 'security-lock', locked: true },
  { path: 'unlock', endpoint: 'unlockDoors', commandType: 'security-unlock', locked: false },
] as const;

export function commandRoutes(app: FastifyInstance, v3: V3): void {
  const executions = new Map<string, CommandExecution>();
  const running = new Set<NodeJS.Timeout>();
  app.addHook('onClose', (_app, done) => {
    for (const timer of running) clearTimeout(timer);
    done();
  });
  for (const command of COMMANDS) {
    app.post<Params>(
      `/vehicles/:id/commands/security/${command.path}`,
      { preHandler: enter(v3, command.endpoint) },
      async (request, reply) => {
        const { vehicle, permissions } = userConnection(v3, request);
        if (!permissions.includes('control_security')) throw new SmartcarErrorReply('PERMISSION');
        const execution = newExecution(v3, request, vehicle, command.commandType);
        const act = () => {
          actOn(v3, execution, vehicle, command.locked);
        };
        const drawn = v3.latency.vehicleMs();
        const limit = SYNC_LIMIT_MS * v3.latency.settings.scale;
        const sync = drawn <= limit;
        if (
          !(await v3.gate.admit(clientOf(v3, request), request, reply, {
            vehicleId: vehicle.id,
            wait: sync ? drawn : limit,
          }))
        )
          return reply;
        if (sync) {
          v3.gate.reachVehicle(vehicle);
          act();
          executions.set(execution.id, execution);
          return executionResource(execution);
        }
        executions.set(execution.id, execution);
        execution.executionMode = 'async';
        const timer = setTimeout(() => {
          running.delete(timer);
          act();
        }, drawn - limit);
        running.add(timer);
        return reply.code(202).send(executionResource(execution));
      },
    );
  }
  executionRoute(app, v3, executions);
}

function newExecution(
  v3: V3,
  request: FastifyRequest,
  vehicle: EmulatedVehicle,
  commandType: string,
): CommandExecution {
  return {
    id: randomUUID(),
    clientId: clientOf(v3, request).clientId,
    vehicleId: vehicle.id,
    commandType,
    executionMode: 'sync',
    status: 'PENDING',
    executedAt: v3.store.now(),
  };
}

/** The car carries the command out, billed like a v2 command; a failing car (a test login) fails it. */
function actOn(
  { store, limits, webhooks }: V3,
  execution: CommandExecution,
  vehicle: EmulatedVehicle,
  locked: boolean,
): void {
  execution.completedAt = store.now();
  if (vehicle.failure) {
    execution.status = 'FAILED';
    return;
  }
  vehicle.isLocked = locked;
  limits.bill(vehicle.id);
  execution.status = 'SUCCESS';
  webhooks.vehicleChanged(vehicle.id);
}

/** The recorded result of a command, for the user who can reach its vehicle (free, platform latency). */
function executionRoute(app: FastifyInstance, v3: V3, executions: Map<string, CommandExecution>): void {
  app.get<Params>(
    '/vehicles/:id/commands/executions/:executionId',
    { preHandler: enter(v3, 'getCommandExecution') },
    async (request, reply) => {
      const { vehicle } = userConnection(v3, request);
      const execution = executions.get(request.params.executionId);
      const client = clientOf(v3, request);
      if (execution?.vehicleId !== vehicle.id || execution.clientId !== client.clientId) throw notFound();
      if (!(await v3.gate.admit(client, request, reply))) return reply;
      return executionResource(execution);
    },
  );
}

/** The `command-execution` body of the lock and unlock references; `completedAt` once the car is done. */
function executionResource(execution: CommandExecution) {
  const { completedAt, executedAt } = execution;
  const iso = (ms: number) => new Date(ms).toISOString();
  return {
    data: {
      id: execution.id,
      type: 'command-execution',
      attributes: {
        commandType: execution.commandType,
        status: { value: execution.status },
        executionMode: execution.executionMode,
      },
      meta:
        completedAt === undefined
          ? { executedAt: iso(executedAt) }
          : {
              executedAt: iso(executedAt),
              completedAt: iso(completedAt),
              durationInSeconds: Math.round((completedAt - executedAt) / 1000),
            },
    },
  };
}
