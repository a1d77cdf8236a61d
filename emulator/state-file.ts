// The emulator's state on disk, so that `npm start` can restart without every vehicle having to be
// connected again: Smartcar keeps its grants and tokens, and so does its stand-in. One JSON file,
// replaced whole (written beside it, then renamed) shortly after each request and on close.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import type { UsageState } from './limits';
import { PERMISSION_LABELS, type Permission } from './permission-labels';
import type { StoreState } from './store';

export interface EmulatorState {
  version: typeof VERSION;
  store: StoreState;
  usage: UsageState;
}

const VERSION = 1;

const permissions = z.array(z.enum(Object.keys(PERMISSION_LABELS) as [Permission, ...Permission[]]));
const time = z.number();

const vehicle = z.object({
  id: z.string(),
  model: z.object({
    make: z.string(),
    model: z.string(),
    year: z.number(),
    vin: z.string(),
    powertrain: z.enum(['ELECTRIC', 'PLUG_IN_HYBRID', 'HYBRID', 'FUEL']),
    batteryKwh: z.number().optional(),
    tankLitres: z.number().optional(),
    fullRangeKm: z.number(),
    odometerKm: z.number(),
    home: z.object({ latitude: z.number(), longitude: z.number() }),
    lacks: permissions.optional(),
  }),
  capabilities: permissions,
  account: z.string(),
  failure: z.object({ type: z.string(), code: z.string().nullable() }).optional(),
  isLocked: z.boolean(),
  isCharging: z.boolean(),
  chargeLimit: z.number(),
  since: time,
  jitter: z.number(),
});

const stateSchema: z.ZodType<EmulatorState> = z.object({
  version: z.literal(VERSION),
  store: z.object({
    vehicles: z.array(vehicle),
    grants: z.array(
      z.object({
        id: z.string(),
        clientId: z.string(),
        account: z.string(),
        vehicles: z.array(z.tuple([z.string(), permissions])),
        scope: permissions,
        // Files written before API v3 have no creation time: their grants date from the epoch.
        createdAt: time.default(0),
      }),
    ),
    approvals: z.array(z.tuple([z.string(), z.object({ vehicleIds: z.array(z.string()), permissions })])),
    codes: z.array(
      z.tuple([
        z.string(),
        z.object({
          clientId: z.string(),
          redirectUri: z.string(),
          grantId: z.string(),
          expiresAt: time,
          used: z.boolean(),
        }),
      ]),
    ),
    tokens: z.array(
      z.tuple([
        z.string(),
        z.object({
          kind: z.enum(['access', 'refresh', 'application']),
          clientId: z.string(),
          grantId: z.string().optional(),
          issuedAt: time,
          expiresAt: time,
          revoked: z.boolean(),
        }),
      ]),
    ),
  }),
  usage: z.object({
    buckets: z.array(z.tuple([z.string(), z.object({ tokens: z.number(), at: time })])),
    vehicleRequests: z.array(z.tuple([z.string(), z.array(time)])),
    billed: z.array(z.tuple([z.string(), z.array(z.tuple([z.string(), z.number()]))])),
  }),
});

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The state saved in `file`; undefined when there is none yet. A file it cannot read stops the start. */
export async function loadState(file: string): Promise<EmulatorState | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const parsed = stateSchema.safeParse(parseJson(text));
  if (!parsed.success) {
    throw new Error(`${file} is not emulator state this version can read; delete it to start afresh.`);
  }
  return parsed.data;
}

/** Saves the state a while after it was asked to (many requests, one write) and on `flush`. */
export class StateWriter {
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  private written = '';

  constructor(
    private readonly file: string,
    private readonly current: () => Omit<EmulatorState, 'version'>,
    private readonly onError: (error: unknown) => void,
    private readonly delayMs = 250,
  ) {}

  schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.save();
    }, this.delayMs);
    // A pending save must not keep the process alive; close flushes.
    this.timer.unref();
  }

  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.save();
  }

  private save(): Promise<void> {
    this.writing = this.writing.then(() => this.write().catch(this.onError));
    return this.writing;
  }

  private async write(): Promise<void> {
    const text = JSON.stringify({ version: VERSION, ...this.current() } satisfies EmulatorState);
    if (text === this.written) return;
    // Written beside the file, then renamed over it: a crash leaves the old state or the new, never half.
    const temporary = `${this.file}.${process.pid}.tmp`;
    await mkdir(path.dirname(this.file), { recursive: true });
    await writeFile(temporary, text, { mode: 0o600 });
    await rename(temporary, this.file);
    this.written = text;
  }
}
