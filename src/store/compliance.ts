// An organization's calling-compliance settings (calling window, default time zone, per-contact
// cap, opt-out field) and its do-not-call entries: numbers on the organization's list and
// contacts marked do-not-call. Every entry is its own document with a deterministic _id, so
// marking is an idempotent upsert and no document has two writers.
import { DEFAULT_CALLING_POLICY, isValidTimeZone, policyProblems } from '../domain/callingWindow';
import { DEFAULT_DAILY_DIAL_BUDGET } from '../domain/spending';
import { CALL_PURPOSES } from '../domain/callingLaw/rules';
import type { DoNotCall, FollowUpContext } from '../domain/followUpCompliance';
import { phoneZones } from '../phone/zones';
import { getContactRecord } from './contacts';
import { type Collections, docId, inCommands } from './db';
import type { ComplianceSettings, DoNotCallDoc } from './types';

export type { ComplianceSettings } from './types';

export const DEFAULT_COMPLIANCE: ComplianceSettings = {
  callingWindow: DEFAULT_CALLING_POLICY,
  defaultTimeZone: 'UTC',
  contactCapPer24h: 3,
  optOutField: 'opt_out',
  dailyDialBudget: DEFAULT_DAILY_DIAL_BUDGET,
  purpose: 'solicitation',
};

/** Why settings are not valid, each message naming its field; empty when valid. */
export function settingsProblems(s: ComplianceSettings): string[] {
  const out = policyProblems(s.callingWindow).map((p) => `callingWindow.${p}`);
  if (!isValidTimeZone(s.defaultTimeZone))
    out.push(`defaultTimeZone: expected an IANA time zone like America/New_York (got ${JSON.stringify(s.defaultTimeZone)})`);
  if (!Number.isInteger(s.contactCapPer24h) || s.contactCapPer24h < 0 || s.contactCapPer24h > 100)
    out.push('contactCapPer24h: expected a whole number from 0 to 100');
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(s.optOutField)) out.push('optOutField: expected 1 to 64 letters, digits, _ . or -');
  if (!Number.isInteger(s.dailyDialBudget) || s.dailyDialBudget < 0 || s.dailyDialBudget > 100_000)
    out.push('dailyDialBudget: expected a whole number from 0 to 100000');
  if (!(CALL_PURPOSES as readonly string[]).includes(s.purpose)) out.push(`purpose: expected one of ${CALL_PURPOSES.join(', ')}`);
  return out;
}

/** The organization's settings, defaults filled in. */
export async function getComplianceSettings(col: Collections, orgId: string): Promise<ComplianceSettings> {
  const org = await col.organizations.findOne({ _id: orgId }, { projection: { compliance: 1 } });
  return { ...DEFAULT_COMPLIANCE, ...(org?.compliance ?? {}) };
}

/** Stores the settings (validated by the caller); false when there is no such organization. */
export async function setComplianceSettings(col: Collections, orgId: string, s: ComplianceSettings): Promise<boolean> {
  const r = await col.organizations.updateOne({ _id: orgId }, { $set: { compliance: s } });
  return r.matchedCount === 1;
}

const phoneKey = (orgId: string, phone: string) => docId(orgId, `phone:${phone}`);
const contactKey = (orgId: string, contactId: string) => docId(orgId, `contact:${contactId}`);

/** Puts numbers on the organization's list; a number already there keeps its first reason. Returns how many were new. */
export async function addDoNotCallNumbers(
  col: Collections,
  orgId: string,
  entries: { phone: string; reason?: string }[],
  source = 'list',
): Promise<number> {
  if (entries.length === 0) return 0;
  const now = new Date();
  const ops = entries.map((e) => ({
    updateOne: {
      filter: { _id: phoneKey(orgId, e.phone) },
      update: {
        $setOnInsert: {
          orgId,
          kind: 'phone' as const,
          phone: e.phone,
          reason: e.reason?.trim() || 'on the do-not-call list',
          source,
          at: now,
        },
      },
      upsert: true,
    },
  }));
  let added = 0;
  for (const part of inCommands(ops)) added += (await col.doNotCall.bulkWrite(part, { ordered: false })).upsertedCount;
  return added;
}

export async function removeDoNotCallNumber(col: Collections, orgId: string, phone: string): Promise<boolean> {
  return (await col.doNotCall.deleteOne({ _id: phoneKey(orgId, phone), orgId })).deletedCount === 1;
}

export async function listDoNotCallNumbers(col: Collections, orgId: string, page: { limit: number; offset: number }) {
  const filter = { orgId, kind: 'phone' as const };
  const [items, total] = await Promise.all([
    col.doNotCall.find(filter).sort({ _id: 1 }).skip(page.offset).limit(page.limit).toArray(),
    col.doNotCall.countDocuments(filter),
  ]);
  return { total, items: items.map(({ phone, reason, source, at }) => ({ phone: phone!, reason, source, at })) };
}

/** Marks a contact do-not-call (the first mark's reason and time stay); idempotent. */
export async function markContactDoNotCall(
  col: Collections,
  orgId: string,
  contactId: string,
  mark: { reason: string; source: string; callId?: string },
): Promise<void> {
  await col.doNotCall.updateOne(
    { _id: contactKey(orgId, contactId) },
    {
      $setOnInsert: {
        orgId,
        kind: 'contact',
        contactId,
        reason: mark.reason,
        source: mark.source,
        at: new Date(),
        ...(mark.callId ? { callId: mark.callId } : {}),
      },
    },
    { upsert: true },
  );
}

export async function clearContactDoNotCall(col: Collections, orgId: string, contactId: string): Promise<boolean> {
  return (await col.doNotCall.deleteOne({ _id: contactKey(orgId, contactId), orgId })).deletedCount === 1;
}

const asDnc = (d: DoNotCallDoc): DoNotCall => ({ reason: d.reason, at: d.at.toISOString(), source: d.source });

/** The contact's own mark, as shown on the contact. */
export async function contactDoNotCall(col: Collections, orgId: string, contactId: string): Promise<DoNotCall | undefined> {
  const d = await col.doNotCall.findOne({ _id: contactKey(orgId, contactId), orgId });
  return d ? asDnc(d) : undefined;
}

/** Whether this contact or this number may not be called: the contact's mark first, then the list. */
export async function doNotCallFor(
  col: Collections,
  orgId: string,
  ref: { contactId?: string; phone?: string },
): Promise<DoNotCall | undefined> {
  const ids = [ref.contactId && contactKey(orgId, ref.contactId), ref.phone && phoneKey(orgId, ref.phone)].filter((x): x is string => !!x);
  if (ids.length === 0) return undefined;
  const docs = await col.doNotCall.find({ _id: { $in: ids }, orgId }).toArray();
  const d = docs.find((x) => x.kind === 'contact') ?? docs[0];
  return d ? asDnc(d) : undefined;
}

/** The workflows of calls with a follow-up scheduled for this contact or number (to cancel them). */
export async function pendingFollowUpWorkflows(
  col: Collections,
  orgId: string,
  ref: { contactId?: string; phone?: string },
): Promise<string[]> {
  const who: object[] = [];
  if (ref.contactId) who.push({ contactId: ref.contactId });
  if (ref.phone) who.push({ to: ref.phone }, { from: ref.phone });
  if (who.length === 0) return [];
  const docs = await col.calls
    .find({ orgId, nextFollowUpAt: { $ne: null }, $or: who }, { projection: { workflowId: 1 } })
    .limit(100)
    .toArray();
  return [...new Set(docs.map((d) => d.workflowId))];
}

/** `US-OK` → `['US', 'US-OK']`: a subdivision's country applies too. */
export const regionsOf = (region: string | undefined): string[] => (region ? [...new Set([region.split('-')[0], region])] : []);

/**
 * The workflows of calls with a follow-up scheduled that call or came from any of `phones`, each
 * with the number that matched: one read of the organization's pending calls however long the
 * list (a 10,000-number import used to read them 10,000 times).
 */
export async function pendingFollowUpWorkflowsOfNumbers(
  col: Collections,
  orgId: string,
  phones: ReadonlySet<string>,
): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (phones.size === 0) return out;
  const docs = col.calls.find({ orgId, nextFollowUpAt: { $ne: null } }, { projection: { workflowId: 1, to: 1, from: 1 } });
  for await (const d of docs) {
    const phone = [d.to, d.from].find((p): p is string => !!p && phones.has(p));
    if (phone && !out.has(d.workflowId)) out.set(d.workflowId, phone);
  }
  return out;
}

/**
 * The contact's time zones as the rules take them: the contact's own, else the number's, else the
 * organization's default; and the number's regions. The dashboard shows follow-up times with it.
 */
export async function contactZones(
  col: Collections,
  input: { orgId: string; contactId?: string; phone?: string },
  settings: Promise<{ defaultTimeZone: string }>,
): Promise<Pick<FollowUpContext, 'zones' | 'zoneSource' | 'regions'>> {
  const { orgId, contactId, phone } = input;
  const [contact, fromPhone] = await Promise.all([contactId ? getContactRecord(col, orgId, contactId) : null, phoneZones(phone)]);
  // The contact's own region (its address) and the number's both apply when they differ: the stricter rule wins.
  const regions = [...new Set([...(fromPhone?.regions ?? []), ...regionsOf(contact?.region)])];
  // Only zones this runtime knows: the workflow's time math must never throw on one it does not.
  const phoneZoneList = (fromPhone?.zones ?? []).filter(isValidTimeZone);
  if (contact?.timezone && isValidTimeZone(contact.timezone)) return { regions, zones: [contact.timezone], zoneSource: 'contact' };
  if (phoneZoneList.length > 0) return { regions, zones: phoneZoneList, zoneSource: 'phone' };
  const { defaultTimeZone } = await settings;
  return { regions, zones: [isValidTimeZone(defaultTimeZone) ? defaultTimeZone : 'UTC'], zoneSource: 'organization' };
}

/** When the organization last had a telephone conversation with the contact (a call that ended completed), epoch ms. */
export async function lastConversationAt(col: Collections, orgId: string, contactId: string): Promise<number | undefined> {
  const [d] = await col.calls
    .find({ orgId, contactId, outcome: 'completed' }, { projection: { endedAt: 1, updatedAt: 1 } })
    .sort({ endedAt: -1 })
    .limit(1)
    .toArray();
  if (!d) return undefined;
  const at = Date.parse(d.endedAt ?? '') || d.updatedAt?.getTime();
  return Number.isFinite(at) ? at : undefined;
}
