// A real SMTP server on 127.0.0.1 (the smtp-server package) that keeps every message it accepted,
// with a small MIME reader so tests can check the headers and both parts of what was received.
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  raw: string;
  headers: Record<string, string>;
  envelope: { from: string; to: string[] };
  /** Decoded text/plain and text/html parts. */
  text?: string;
  html?: string;
}

export interface FakeSmtp {
  host: string;
  port: number;
  messages: ReceivedMail[];
  /** Refuse every message with this SMTP error until cleared. */
  failWith: { code: number; message: string } | null;
  close(): Promise<void>;
}

export async function startFakeSmtp(port = 0): Promise<FakeSmtp> {
  const state: FakeSmtp = { host: '127.0.0.1', port: 0, messages: [], failWith: null, close: async () => {} };
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        if (state.failWith) {
          const err = Object.assign(new Error(state.failWith.message), { responseCode: state.failWith.code });
          return callback(err);
        }
        const raw = Buffer.concat(chunks).toString('utf8');
        state.messages.push({
          ...parseMime(raw),
          raw,
          envelope: {
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
          },
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  state.port = (server.server.address() as AddressInfo).port;
  state.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return state;
}

function splitHead(raw: string): { head: string; body: string } {
  const i = raw.search(/\r?\n\r?\n/);
  if (i < 0) return { head: raw, body: '' };
  const sep = raw.slice(i).startsWith('\r\n\r\n') ? 4 : 2;
  return { head: raw.slice(0, i), body: raw.slice(i + sep) };
}

function parseHeaders(head: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const m = /^([^:]+):\s*(.*)$/.exec(line);
    if (m) out[m[1].toLowerCase()] = decodeWords(m[2]);
  }
  return out;
}

/** RFC 2047 encoded words (=?UTF-8?Q?...?= / ?B?) in headers. */
function decodeWords(v: string): string {
  return v.replace(/=\?([^?]+)\?([QqBb])\?([^?]*)\?=/g, (_all, _cs, enc: string, text: string) =>
    enc.toUpperCase() === 'B' ? Buffer.from(text, 'base64').toString('utf8') : decodeQp(text.replace(/_/g, ' ')),
  );
}

function decodeQp(s: string): string {
  const bytes: number[] = [];
  const soft = s.replace(/=\r?\n/g, '');
  for (let i = 0; i < soft.length; i++) {
    if (soft[i] === '=' && /^[0-9A-Fa-f]{2}$/.test(soft.slice(i + 1, i + 3))) {
      bytes.push(parseInt(soft.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(soft[i], 'utf8'));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

function decodeBody(body: string, encoding: string | undefined): string {
  const e = (encoding ?? '').toLowerCase();
  if (e === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  if (e === 'quoted-printable') return decodeQp(body);
  return body;
}

function parseMime(raw: string): { headers: Record<string, string>; text?: string; html?: string } {
  const { head, body } = splitHead(raw);
  const headers = parseHeaders(head);
  const parts: { text?: string; html?: string } = {};
  const walk = (h: Record<string, string>, b: string) => {
    const type = (h['content-type'] ?? 'text/plain').toLowerCase();
    const boundary = /boundary="?([^";]+)"?/i.exec(h['content-type'] ?? '')?.[1];
    if (type.startsWith('multipart/') && boundary) {
      for (const chunk of b.split(`--${boundary}`).slice(1)) {
        if (chunk.startsWith('--')) break;
        const { head: ph, body: pb } = splitHead(chunk.replace(/^\r?\n/, ''));
        walk(parseHeaders(ph), pb.replace(/\r?\n$/, ''));
      }
    } else if (type.startsWith('text/html')) {
      parts.html ??= decodeBody(b, h['content-transfer-encoding']);
    } else if (type.startsWith('text/plain')) {
      parts.text ??= decodeBody(b, h['content-transfer-encoding']);
    }
  };
  walk(headers, body);
  return { headers, ...parts };
}
