// Edges of reading the Connect redirect: empty values, a Connect URL without a scope, and which
// scope entries count as required.
import { parseConnectRedirect } from '@/utils/connect-redirect';
import { describe, expect, it } from 'vitest';

const REDIRECT = 'https://nndbmeanannkdoblbjpcejkfagdlibni.chromiumapp.org/';
const connect = {
  url: 'https://connect.smartcar.com/oauth/authorize?scope=read_odometer&state=s1',
  state: 's1',
};

describe('parseConnectRedirect at the edges', () => {
  it('treats an empty URL as a cancel', () => {
    expect(parseConnectRedirect('', connect)).toEqual({ ok: false, failure: { code: 'cancelled' } });
  });

  it('reports an empty code as no code', () => {
    expect(parseConnectRedirect(`${REDIRECT}?code=&state=s1`, connect)).toEqual({
      ok: false,
      failure: { code: 'connect_error', detail: 'Connect returned no code.' },
    });
  });

  it('rejects an empty state when the flow has one', () => {
    expect(parseConnectRedirect(`${REDIRECT}?code=abc&state=`, connect)).toEqual({
      ok: false,
      failure: { code: 'state_mismatch' },
    });
  });

  it('checks the state before reading an error, so a forged denial is a state mismatch', () => {
    expect(parseConnectRedirect(`${REDIRECT}?error=access_denied&state=forged`, connect)).toEqual({
      ok: false,
      failure: { code: 'state_mismatch' },
    });
  });

  it('reads a denial without a description', () => {
    expect(parseConnectRedirect(`${REDIRECT}?error=access_denied&state=s1`, connect)).toEqual({
      ok: false,
      failure: { code: 'access_denied' },
    });
  });

  it('leaves out vehicle details that came back empty', () => {
    const url = `${REDIRECT}?error=vehicle_incompatible&vin=&make=AUDI&model=&year=&state=s1`;
    expect(parseConnectRedirect(url, connect)).toEqual({
      ok: false,
      failure: { code: 'vehicle_incompatible', vehicle: { make: 'AUDI' } },
    });
  });

  it('names no required permissions when the Connect URL has no scope', () => {
    const noScope = { url: 'https://connect.smartcar.com/oauth/authorize?state=s1', state: 's1' };
    expect(parseConnectRedirect(`${REDIRECT}?error=vehicle_incompatible&state=s1`, noScope)).toEqual({
      ok: false,
      failure: { code: 'vehicle_incompatible', vehicle: {} },
    });
  });

  it('counts only entries that start with "required:" as required', () => {
    const scope = encodeURIComponent('read_odometer:required required:read_location xrequired:read_fuel');
    const flow = { url: `https://connect.smartcar.com/oauth/authorize?scope=${scope}&state=s1`, state: 's1' };
    expect(parseConnectRedirect(`${REDIRECT}?error=vehicle_incompatible&state=s1`, flow)).toEqual({
      ok: false,
      failure: { code: 'vehicle_incompatible', vehicle: {}, requiredPermissions: ['read_location'] },
    });
  });

  it('ignores a code that comes with an error', () => {
    expect(parseConnectRedirect(`${REDIRECT}?error=server_error&code=abc&state=s1`, connect)).toEqual({
      ok: false,
      failure: { code: 'connect_error', detail: 'server_error' },
    });
  });
});
