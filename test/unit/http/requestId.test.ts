// Request ids: which incoming ids are kept, and that the JSON log line carries the id.
import { createLogger, withFields } from '../../../src/observability/log';
import { requestIdOf } from '../../../src/http/requestId';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

test('a plain token from the caller is kept', () => {
  for (const id of [
    'abc',
    'req_123',
    '2f1c7a9e-0b7e-4a55-9d27-6f0a2d1b9c11',
    'Root=1-67891233-abcdef012345678912345678',
    'x'.repeat(128),
  ]) {
    expect(requestIdOf(id)).toBe(id);
  }
});

test('a missing, long or odd id is replaced by a new UUID', () => {
  for (const id of [undefined, '', ' abc', 'a b', 'x'.repeat(129), 'a\nb', '{"level":"error"}', '<script>', '-leading-dash']) {
    expect(requestIdOf(id)).toMatch(UUID);
  }
  expect(requestIdOf(undefined)).not.toBe(requestIdOf(undefined));
});

test('withFields puts the id on every JSON line, and a line may still add its own fields', () => {
  const written: string[] = [];
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    written.push(String(chunk));
    return true;
  });
  try {
    const log = withFields(createLogger('debug', { service: 'receiver' }), { requestId: 'req-1' });
    log.info('webhook accepted', { callId: 'c1' });
    log.debug('request', { status: 200 });
  } finally {
    spy.mockRestore();
  }
  const parsed = written.map((l) => JSON.parse(l));
  expect(parsed).toEqual([
    expect.objectContaining({ level: 'info', msg: 'webhook accepted', service: 'receiver', requestId: 'req-1', callId: 'c1' }),
    expect.objectContaining({ level: 'debug', msg: 'request', requestId: 'req-1', status: 200 }),
  ]);
});
