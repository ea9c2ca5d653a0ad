// Structured one-line JSON logs on stdout. Secrets and API keys are never passed in.
type Level = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export function createLogger(level: Level = 'info', base: Record<string, unknown> = {}): Logger {
  const emit =
    (l: Level) =>
    (msg: string, fields: Record<string, unknown> = {}) => {
      if (ORDER[l] < ORDER[level]) return;
      const line = JSON.stringify({ time: new Date().toISOString(), level: l, msg, ...base, ...fields }, (_k, v: unknown) =>
        v instanceof Error ? { name: v.name, message: v.message } : v,
      );
      (l === 'error' || l === 'warn' ? process.stderr : process.stdout).write(line + '\n');
    };
  return { debug: emit('debug'), info: emit('info'), warn: emit('warn'), error: emit('error') };
}

/** The same logger with `fields` on every line (e.g. a request's id); works on any Logger. */
export function withFields(logger: Logger, fields: Record<string, unknown>): Logger {
  const wrap =
    (l: keyof Logger) =>
    (msg: string, more: Record<string, unknown> = {}) =>
      logger[l](msg, { ...fields, ...more });
  return { debug: wrap('debug'), info: wrap('info'), warn: wrap('warn'), error: wrap('error') };
}

/** For tests and tools that want silence. */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
