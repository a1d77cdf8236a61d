import { parseConnectRedirect } from '@/utils/connect-redirect';
import { describe, expect, it } from 'vitest';

const REDIRECT = 'https://nndbmeanannkdoblbjpcejkfagdlibni.chromiumapp.org/';
const CONNECT_URL = 'https://connect.smartcar.com/oauth/authorize?scope=read_odometer+read_location&state=s1';
/** The Connect URL and state the server handed out for this flow. */
const connect = { url: CONNECT_URL, state: 's1' };

describe('parseConnectRedirect', () => {
  it('returns the code when the state matches', () => {
    expect(parseConnectRedirect(`${REDIRECT}?code=abc-123&state=s1`, connect)).toEqual({
      ok: true,
      code: 'abc-123',
    });
  });

  it("passes on an API v3 redirect's user_id with the code, for the server to check", () => {
    const userId = '0b6d4e3c-5f8a-4a1e-9d2b-7c3e1f0a9b8d';
    expect(parseConnectRedirect(`${REDIRECT}?code=abc-123&state=s1&user_id=${userId}`, connect)).toEqual({
      ok: true,
      code: 'abc-123',
      smartcarUserId: userId,
    });
  });

  it('rejects a code that comes back with another state', () => {
    expect(parseConnectRedirect(`${REDIRECT}?code=abc&state=forged`, connect)).toEqual({
      ok: false,
      failure: { code: 'state_mismatch' },
    });
  });

  it('rejects a code that comes back without a state', () => {
    expect(parseConnectRedirect(`${REDIRECT}?code=abc`, connect)).toMatchObject({
      failure: { code: 'state_mismatch' },
    });
  });

  it('reads a denial', () => {
    const url = `${REDIRECT}?error=access_denied&error_description=User+denied+access+to+application.&state=s1`;
    expect(parseConnectRedirect(url, connect)).toEqual({
      ok: false,
      failure: { code: 'access_denied', detail: 'User denied access to application.' },
    });
  });

  it('reads an incompatible vehicle with the details the user shared', () => {
    const url = `${REDIRECT}?error=vehicle_incompatible&error_description=The%20user%E2%80%99s%20vehicle%20is%20not%20compatible.&vin=0SCAUDI012FE3B132&make=AUDI&model=A4&year=2019&state=s1`;
    expect(parseConnectRedirect(url, connect)).toEqual({
      ok: false,
      failure: {
        code: 'vehicle_incompatible',
        detail: 'The user’s vehicle is not compatible.',
        vehicle: { vin: '0SCAUDI012FE3B132', make: 'AUDI', model: 'A4', year: '2019' },
      },
    });
  });

  it('names the permissions the Connect URL required of an incompatible vehicle', () => {
    const url = `${REDIRECT}?error=vehicle_incompatible&make=AUDI&state=s1`;
    const required = {
      url: 'http://127.0.0.1:4010/oauth/authorize?scope=required%3Aread_odometer+read_location+required%3Acontrol_security&state=s1',
      state: 's1',
    };
    expect(parseConnectRedirect(url, required)).toMatchObject({
      failure: { requiredPermissions: ['read_odometer', 'control_security'] },
    });
  });

  it('reads an incompatible vehicle whose details were not shared', () => {
    const url = `${REDIRECT}?error=vehicle_incompatible&state=s1`;
    expect(parseConnectRedirect(url, connect)).toEqual({
      ok: false,
      failure: { code: 'vehicle_incompatible', vehicle: {} },
    });
  });

  it('keeps the description of any other Connect error', () => {
    const url = `${REDIRECT}?error=no_vehicles&error_description=No%20vehicles%20found.&state=s1`;
    expect(parseConnectRedirect(url, connect)).toEqual({
      ok: false,
      failure: { code: 'connect_error', detail: 'No vehicles found.' },
    });
  });

  it('falls back to the error name when there is no description', () => {
    expect(parseConnectRedirect(`${REDIRECT}?error=server_error&state=s1`, connect)).toMatchObject({
      failure: { code: 'connect_error', detail: 'server_error' },
    });
  });

  it('treats a missing URL as a cancel', () => {
    expect(parseConnectRedirect(undefined, connect)).toEqual({ ok: false, failure: { code: 'cancelled' } });
  });

  it('reports a redirect that carries neither code nor error', () => {
    expect(parseConnectRedirect(`${REDIRECT}?state=s1`, connect)).toMatchObject({
      failure: { code: 'connect_error' },
    });
  });
});
