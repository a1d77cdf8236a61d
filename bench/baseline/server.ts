// The baseline: the seeds' tutorial server (Express, the smartcar SDK, tokens in memory) with a
// vehicle endpoint that makes one Smartcar call per request. Run in its own process by the bench;
// the SDK finds the emulator through SMARTCAR_API_ORIGIN / SMARTCAR_AUTH_ORIGIN.
import express from 'express';
import smartcar from 'smartcar';

const port = Number(process.env.PORT ?? 4000);
const client = new smartcar.AuthClient({
  clientId: process.env.SMARTCAR_CLIENT_ID ?? '',
  clientSecret: process.env.SMARTCAR_CLIENT_SECRET ?? '',
  redirectUri: process.env.SMARTCAR_REDIRECT_URI ?? '',
  mode: 'test',
});

// As in the tutorial: the last connected vehicle and its access token, in memory.
let connected: { vehicleId: string; accessToken: string } | undefined;

const app = express();

app.get('/healthz', (_req, res) => {
  res.json({ ok: true });
});

app.get('/login', (_req, res) => {
  res.redirect(client.getAuthUrl(['read_vehicle_info']));
});

app.get('/exchange', async (req, res) => {
  const code = typeof req.query.code === 'string' ? req.query.code : '';
  const tokens = await client.exchangeCode(code);
  const { vehicles } = await smartcar.getVehicles(tokens.accessToken);
  const [vehicleId] = vehicles;
  if (vehicleId === undefined) {
    res.sendStatus(404);
    return;
  }
  connected = { vehicleId, accessToken: tokens.accessToken };
  res.sendStatus(200);
});

app.get('/vehicle', async (_req, res) => {
  if (!connected) {
    res.sendStatus(401);
    return;
  }
  const vehicle = new smartcar.Vehicle(connected.vehicleId, connected.accessToken);
  res.json(await vehicle.attributes());
});

app.listen(port, '127.0.0.1');
