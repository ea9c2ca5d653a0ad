// The CLI's event-log commands: list an organization's events (accepted and refused), show one
// with its request and delivery tries, replay one. src/bin/cli.ts parses the arguments and hands these
// commands here. A replay makes the event due; the receiver's relay delivers it.
import type { Collections } from '../store/db';
import { type EventState, findEventDoc, fullEventOf, listEvents, rawBodyOf, replayEvent, summaryOf } from '../store/eventLog';

export const EVENTS_HELP = `
  events list --org ORG_ID [--state pending|delivered|dead|refused] [--call-id ID]
              [--provider P] [--from ISO] [--to ISO] [--limit N]
                                          the event log, newest first (kept EVENT_RETENTION, 30 days)
  events show EVENT_ID --org ORG_ID [--raw]
                                          one event: the redacted request, the canonical event,
                                          every delivery try (--raw: print the body as received)
  events replay EVENT_ID --org ORG_ID     deliver a dead (or delivered) event again; the call
                                          applies it once however often it arrives`;

export const EVENTS_OPTIONS = {
  state: { type: 'string' },
  'call-id': { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
  limit: { type: 'string' },
  raw: { type: 'boolean' },
} as const;

export interface EventsValues {
  org?: string;
  provider?: string;
  state?: string;
  'call-id'?: string;
  from?: string;
  to?: string;
  limit?: string;
  raw?: boolean;
}

export class EventsUsageError extends Error {}

const fail = (m: string): never => {
  throw new EventsUsageError(m);
};

const date = (s: string | undefined, what: string) => {
  if (s === undefined) return undefined;
  const d = new Date(s);
  return Number.isNaN(d.getTime()) ? fail(`--${what}: expected an ISO date or time (got ${s})`) : d;
};

/** Runs an `events ...` command; false when the command is not one of these. */
export async function runEventsCommand(cmd: string, arg: string | undefined, v: EventsValues, col: Collections): Promise<boolean> {
  if (!cmd.startsWith('events')) return false;
  const orgId = v.org ?? fail('--org is required');
  switch (cmd) {
    case 'events list': {
      const states = ['pending', 'delivered', 'dead', 'refused'];
      if (v.state !== undefined && !states.includes(v.state)) fail(`--state: expected one of ${states.join(', ')} (got ${v.state})`);
      const limit = v.limit === undefined ? 50 : Number(v.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) fail(`--limit: expected 1 to 1000 (got ${v.limit})`);
      const events = await listEvents(
        col,
        orgId,
        {
          state: v.state as EventState | undefined,
          callId: v['call-id'],
          provider: v.provider,
          from: date(v.from, 'from'),
          to: date(v.to, 'to'),
        },
        limit,
      );
      if (events.length === 0) console.log('no events');
      for (const e of events) {
        const what = e.state === 'refused' ? `HTTP ${e.status}` : `${e.type} call ${e.callId}`;
        console.log(`${e.receivedAt}  ${e.state.padEnd(9)} ${e.provider ?? '-'}  ${what}  ${e.id}${e.reason ? `\n    ${e.reason}` : ''}`);
      }
      return true;
    }
    case 'events show': {
      const id = arg ?? fail('the event id is required');
      if (id.startsWith('refused:')) {
        const r = (await col.refusedRequests.findOne({ _id: `${orgId}:${id}`, orgId })) ?? fail(`no event ${id} in ${orgId}`);
        if (v.raw) process.stdout.write(r.body ?? '');
        else console.log(JSON.stringify(r, null, 2));
        return true;
      }
      const doc = (await findEventDoc(col, `${orgId}:${id}`)) ?? fail(`no event ${id} in ${orgId}`);
      const first = doc.requestOf ? await findEventDoc(col, doc.requestOf) : doc;
      const body = first ? await rawBodyOf(col, first) : undefined;
      if (v.raw) {
        if (body) process.stdout.write(body);
        return true;
      }
      const { raw: _, ...request } = first?.request ?? {};
      console.log(
        JSON.stringify(
          { ...summaryOf(doc, doc.state), request, bodyBytes: body?.length, event: await fullEventOf(col, doc), tries: doc.tries ?? [] },
          null,
          2,
        ),
      );
      return true;
    }
    case 'events replay': {
      const id = arg ?? fail('the event id is required');
      const was = (await replayEvent(col, `${orgId}:${id}`, 'the CLI', new Date())) ?? fail(`no event ${id} in ${orgId}`);
      console.log(`event ${id} was ${was}; it is due now, and the receiver's relay delivers it`);
      return true;
    }
    default:
      return fail(`unknown command: ${cmd}`);
  }
}
