// Settings that decide who can reach the receiver and which headers it believes.
import { loadConfig } from '../../../src/config';

describe('receiver exposure settings', () => {
  it('binds to loopback and trusts no X-Forwarded-* by default', () => {
    const c = loadConfig({});
    expect(c.http.host).toBe('127.0.0.1');
    expect(c.http.trustProxy).toBe(false);
    expect(c.http.publicBaseUrl).toBeUndefined();
  });

  it('takes HOST=0.0.0.0 and TRUST_PROXY=true for production', () => {
    const c = loadConfig({ HOST: '0.0.0.0', TRUST_PROXY: 'true' });
    expect(c.http).toMatchObject({ host: '0.0.0.0', trustProxy: true });
  });

  it('names TRUST_PROXY when it is not a boolean', () => {
    expect(() => loadConfig({ TRUST_PROXY: 'maybe' })).toThrow(/TRUST_PROXY/);
  });
});
