// The benchmark's calls: the webhook bodies a generic platform sends (the README's flat shape), and
// past calls written straight into the database as the app would have stored them, so a run can
// start with an organization that already holds weeks of history.
//
// The seeder follows the storage model in src/store/*.ts: when that changes, change seedHistory.
import type { AnyBulkWriteOperation } from 'mongodb';
import { type ContactFigures, countCall, noFigures } from '../../src/domain/contactFigures';
import { type CallState, initialState, reduce } from '../../src/domain/reducer';
import { adapters } from '../../src/providers';
import {
  type CallDoc,
  type CallMetricDoc,
  type Collections,
  type ContactCallDoc,
  type ContactDoc,
  type ContactPhoneDoc,
  type ContactStatsDoc,
  docId,
  storableKeys,
} from '../../src/store/db';
import { workflowIdFor } from '../../workflows/messages';

export const EVENTS = ['call.initiated', 'call.answered', 'call.completed'] as const;
export type BenchEvent = (typeof EVENTS)[number];

const CALL_SECONDS = 180;

/** The contact's phone number: one per contact, so a phone lookup would find the same contact. */
export const phoneOf = (contact: number) => `+1415${String(2_000_000 + (contact % 7_000_000)).padStart(7, '0')}`;
const BUSINESS_NUMBER = '+14155550100';

/** One webhook body, as a generic platform posts it to POST /api/calls/webhook. */
export function eventBody(callId: string, contactId: string, contact: number, event: BenchEvent, at: Date): Record<string, unknown> {
  const body: Record<string, unknown> = {
    callId,
    provider: 'generic',
    event,
    from: BUSINESS_NUMBER,
    to: phoneOf(contact),
    direction: 'outbound',
    timestamp: at.toISOString(),
    metadata: { contactId, campaign: 'benchmark' },
  };
  if (event === 'call.completed') {
    body.duration = CALL_SECONDS;
    body.status = 'completed';
  }
  return body;
}

/** The state the app's reducer reaches for one call's three events, parsed by the real adapter. */
function reducedCall(orgId: string, callId: string, contactId: string, contact: number, startedAt: Date): CallState {
  let state = initialState(orgId, callId, 'generic');
  EVENTS.forEach((event, k) => {
    const at = new Date(startedAt.getTime() + [0, 8_000, 8_000 + CALL_SECONDS * 1000][k]);
    const raw = Buffer.from(JSON.stringify(eventBody(callId, contactId, contact, event, at)));
    const req = {
      rawBody: raw,
      headers: {},
      contentType: 'application/json',
      publicUrl: 'http://127.0.0.1/api/calls/webhook',
      receivedAt: new Date(at.getTime() + 300).toISOString(),
      now: at.getTime(),
    };
    for (const e of adapters.generic.parse(req, JSON.parse(raw.toString('utf8')) as Record<string, unknown>))
      state = reduce(state, e).state;
  });
  return state;
}

export interface HistoryPlan {
  orgId: string;
  /** History calls are `hist_<j>`; call j belongs to contact `hist_c<floor(j / callsPerContact)>`. */
  callsPerContact: number;
}

export const historyContactId = (k: number) => `hist_c${k}`;

/** What has been seeded so far for an organization, carried from one seeding level to the next. */
export interface SeedState {
  seeded: number;
  figures: Map<string, ContactFigures>;
}

const DAY_MS = 86_400_000;

/**
 * Writes history calls [state.seeded, upTo) with everything a counted, finished call leaves behind:
 * the call record, its metrics, the contact, the contact's phone, the counted-call fact and the
 * contact's figures. insertMany in batches of `batch`; the figures of a contact split across two
 * calls of this function are replaced, not inserted twice.
 */
export async function seedHistory(col: Collections, plan: HistoryPlan, state: SeedState, upTo: number, batch = 1000): Promise<void> {
  const { orgId, callsPerContact } = plan;
  // Calls 30 s apart, ending a day ago: older than anything the benchmark sends live.
  const origin = Date.now() - DAY_MS - upTo * 30_000;
  const touched = new Set<string>();
  const existed = new Set<string>();
  for (let from = state.seeded; from < upTo; from += batch) {
    const to = Math.min(upTo, from + batch);
    const calls: CallDoc[] = [];
    const metrics: CallMetricDoc[] = [];
    const facts: ContactCallDoc[] = [];
    const contacts: ContactDoc[] = [];
    const phones: ContactPhoneDoc[] = [];
    for (let j = from; j < to; j++) {
      const k = Math.floor(j / callsPerContact);
      const contactId = historyContactId(k);
      const callId = `hist_${j}`;
      const startedAt = new Date(origin + j * 30_000);
      const s = reducedCall(orgId, callId, contactId, k, startedAt);
      const savedAt = new Date(startedAt.getTime() + (CALL_SECONDS + 10) * 1000);
      calls.push({
        ...storableKeys(s),
        _id: docId(orgId, callId),
        workflowId: workflowIdFor(orgId, callId),
        createdAt: startedAt,
        updatedAt: savedAt,
        email: { status: 'skipped', reason: 'the contact has no email address', at: savedAt },
      });
      metrics.push({
        _id: docId(orgId, callId),
        orgId,
        callId,
        provider: 'generic',
        contactId,
        outcome: s.outcome,
        durationSec: s.durationSec,
        endedAt: s.endedAt,
        recordedAt: savedAt,
      });
      const before = state.figures.get(contactId);
      if (before === undefined) {
        contacts.push({ _id: docId(orgId, contactId), orgId, contactId, phone: phoneOf(k), createdAt: startedAt, updatedAt: startedAt });
        phones.push({ _id: docId(orgId, phoneOf(k)), orgId, phone: phoneOf(k), contactId, createdAt: startedAt });
      } else if (!touched.has(contactId)) {
        existed.add(contactId);
      }
      touched.add(contactId);
      const call = { callId, date: s.endedAt ?? startedAt.toISOString(), durationSec: s.durationSec };
      const figures = countCall(before ?? noFigures(), call);
      state.figures.set(contactId, figures);
      facts.push({ _id: `${orgId}:${contactId}:${callId}`, orgId, contactId, ...call, seq: figures.callCount, countedAt: savedAt });
    }
    await Promise.all([
      col.calls.insertMany(calls, { ordered: false }),
      col.callMetrics.insertMany(metrics, { ordered: false }),
      col.contactCalls.insertMany(facts, { ordered: false }),
      contacts.length ? col.contacts.insertMany(contacts, { ordered: false }) : null,
      phones.length ? col.contactPhones.insertMany(phones, { ordered: false }) : null,
    ]);
    state.seeded = to;
  }
  // Figures last: one document per contact, written once per call of this function.
  const now = new Date();
  const stats = (id: string): ContactStatsDoc => ({
    _id: docId(orgId, id),
    orgId,
    contactId: id,
    ...state.figures.get(id)!,
    updatedAt: now,
  });
  const fresh = [...touched].filter((id) => !existed.has(id)).map(stats);
  for (let i = 0; i < fresh.length; i += batch) await col.contactStats.insertMany(fresh.slice(i, i + batch), { ordered: false });
  const replace: AnyBulkWriteOperation<ContactStatsDoc>[] = [...existed].map((id) => {
    const { _id, ...fields } = stats(id);
    return { updateOne: { filter: { _id }, update: { $set: fields }, upsert: true } };
  });
  if (replace.length) await col.contactStats.bulkWrite(replace, { ordered: false });
}

/** The call count a contact of the history shows after seeding (0 for a contact never seeded). */
export const seededCount = (state: SeedState, contactId: string): number => state.figures.get(contactId)?.callCount ?? 0;

/**
 * Call counts of all the organization's contacts straight from the database (one query), for
 * polling while the app works: cheaper than one API request per contact. The final checks read
 * GET /api/contacts/:id, the contract, instead.
 */
export async function readContactCounts(col: Collections, orgId: string): Promise<Map<string, number>> {
  const docs = await col.contactStats.find({ orgId }, { projection: { contactId: 1, callCount: 1 } }).toArray();
  return new Map(docs.map((d) => [d.contactId, d.callCount]));
}

/** One contact's call count, read by _id (the primary key: no cost that grows with history). */
export async function readContactCount(col: Collections, orgId: string, contactId: string): Promise<number> {
  return (await col.contactStats.findOne({ _id: docId(orgId, contactId) }, { projection: { callCount: 1 } }))?.callCount ?? 0;
}
