// Per-person follow-up rules, kept by the contact's own workflow (its single writer): at most N
// follow-up attempts in any rolling 24 hours across all of the contact's calls, and at most one
// follow-up plan running at a time (a later no-answer joins it). Pure: the contact workflow
// applies requests here, tests walk it without Temporal. No Node imports (workflow bundle).
import { localTime } from './callingWindow';

export const CAP_WINDOW_MS = 24 * 3_600_000;
/**
 * A slot is taken just before its call is dialed, so the dial comes a little after the slot's time.
 * A slot is therefore held this much longer than its window: an attempt allowed when the oldest slot
 * leaves the window can never be dialed within the window of that earlier dial.
 */
export const SLOT_MARGIN_MS = 5 * 60_000;
/** Calls that may join one plan; past it a call is told to join without being listed (nothing is lost but the settle signal). */
export const MAX_JOINED = 200;

/** One follow-up attempt counted against the contact's cap. Keyed by call and attempt, so asking twice uses one slot. */
export interface Reservation {
  key: string;
  callId: string;
  attempt: number;
  /** Epoch ms of the contact workflow's clock when the slot was taken. */
  at: number;
}

export interface JoinedCall {
  callId: string;
  at: number;
}

/** The follow-up plan currently running for the contact: whose call owns it, and which calls joined it. */
export interface ContactPlan {
  ownerCallId: string;
  since: number;
  joined: JoinedCall[];
}

export interface ContactGateState {
  /** Grows with every change; the stored copy is replaced only by a higher one. */
  rev: number;
  reservations: Reservation[];
  plan?: ContactPlan;
}

export const emptyGate = (): ContactGateState => ({ rev: 0, reservations: [] });

export type GateRequest =
  /** A call ended unanswered and would start a follow-up plan. */
  | { type: 'startPlan'; callId: string }
  /**
   * The plan's attempt is due: may it be placed now? `cap` is the organization's contactCapPer24h;
   * `limits` the calling law's caps for the contact, `quietUntil` (epoch ms) the end of a law's quiet period after a conversation.
   */
  | { type: 'reserve'; callId: string; attempt: number; cap: number; limits?: AttemptLimit[]; quietUntil?: number; quietRule?: string }
  /** The reserved attempt was not dialed after all (deferred, do-not-call, refused): give the slot back. */
  | { type: 'release'; callId: string; attempt: number }
  /** The owner's plan ended (answered, exhausted, canceled, due and waited out): settle the joined calls. */
  | { type: 'endPlan'; callId: string; status: string; reason?: string };

/** A request as the call's workflow sends it: the cap of a reservation is the organization's, filled in by the askContactGate activity. */
export type GateAsk = Exclude<GateRequest, { type: 'reserve' }> | { type: 'reserve'; callId: string; attempt: number };

/** A cap besides the organization's: at most `cap` attempts in any rolling `windowMs` ("Oklahoma, 15 O.S. §775C.4: 3 calls in 24 hours"). */
export interface AttemptLimit {
  cap: number;
  windowMs: number;
  rule: string;
}

export type GateAnswer =
  | { kind: 'owner' }
  | { kind: 'joined'; ownerCallId: string; since: string }
  | { kind: 'allowed'; used: number; cap: number }
  /** `freeAt` is when a slot frees up; absent when the cap is 0 (no follow-up may be placed at all). `rule`: the law that refused, when not the organization's cap. */
  | { kind: 'refused'; used: number; cap: number; freeAt?: string; rule?: string }
  | { kind: 'released' }
  | { kind: 'ended'; settled: string[] };

/** What the contact workflow must tell a joined call: the plan it joined is over. */
export interface JoinedPlanEnd {
  callId: string;
  ownerCallId: string;
  status: string;
  reason?: string;
}

export interface GateResult {
  state: ContactGateState;
  answer: GateAnswer;
  /** Signals to send, one per joined call, after the state is stored. */
  notify: JoinedPlanEnd[];
}

export const reservationKey = (callId: string, attempt: number) => `${callId}:${attempt}`;

const iso = (ms: number) => new Date(ms).toISOString();

/** The reservations still held in the rolling window ending at `now`: (now − 24 h − the slot margin, now]. */
export function inWindow(reservations: readonly Reservation[], now: number, windowMs = CAP_WINDOW_MS): Reservation[] {
  return reservations.filter((r) => r.at > now - windowMs - SLOT_MARGIN_MS);
}

/**
 * When the next slot frees up: with k attempts in the window (sorted t0 ≤ … ≤ tk−1) and a cap of
 * N ≤ k, fewer than N remain in the window once t(k−N) is 24 hours old. Undefined when a slot is
 * free now, or never (cap 0).
 */
export function nextFreeAt(reservations: readonly Reservation[], cap: number, now: number, windowMs = CAP_WINDOW_MS): number | undefined {
  if (cap <= 0) return undefined;
  const times = inWindow(reservations, now, windowMs)
    .map((r) => r.at)
    .sort((a, b) => a - b);
  if (times.length < cap) return undefined;
  return times[times.length - cap] + windowMs + SLOT_MARGIN_MS;
}

/**
 * Why a new attempt may not be placed now, or undefined when it may: the law's quiet period, then
 * every cap (the organization's and the law's); when several are full, the one that frees up last.
 */
function reserveRefusal(
  reservations: readonly Reservation[],
  req: Extract<GateRequest, { type: 'reserve' }>,
  now: number,
): GateAnswer | undefined {
  const used = inWindow(reservations, now).length;
  let worst: Extract<GateAnswer, { kind: 'refused' }> | undefined;
  if (req.quietUntil !== undefined && req.quietUntil > now)
    worst = { kind: 'refused', used, cap: req.cap, freeAt: iso(req.quietUntil), ...(req.quietRule ? { rule: req.quietRule } : {}) };
  for (const l of [{ cap: req.cap, windowMs: CAP_WINDOW_MS, rule: undefined }, ...(req.limits ?? [])]) {
    const n = inWindow(reservations, now, l.windowMs).length;
    if (n < l.cap) continue;
    const free = nextFreeAt(reservations, l.cap, now, l.windowMs);
    // A cap of 0 never frees up: it decides.
    if (free === undefined) return { kind: 'refused', used: n, cap: l.cap, ...(l.rule ? { rule: l.rule } : {}) };
    if (!worst || Date.parse(worst.freeAt!) < free)
      worst = { kind: 'refused', used: n, cap: l.cap, freeAt: iso(free), ...(l.rule ? { rule: l.rule } : {}) };
  }
  return worst;
}

function changed(s: ContactGateState, change: Partial<ContactGateState>): ContactGateState {
  return { ...s, ...change, rev: s.rev + 1 };
}

/** Applies one request. The same request again gives the same answer and changes nothing more. */
export function decideGate(s: ContactGateState, req: GateRequest, now: number): GateResult {
  const same = (answer: GateAnswer): GateResult => ({ state: s, answer, notify: [] });
  switch (req.type) {
    case 'startPlan': {
      const p = s.plan;
      if (!p)
        return { state: changed(s, { plan: { ownerCallId: req.callId, since: now, joined: [] } }), answer: { kind: 'owner' }, notify: [] };
      if (p.ownerCallId === req.callId) return same({ kind: 'owner' });
      const answer: GateAnswer = { kind: 'joined', ownerCallId: p.ownerCallId, since: iso(p.since) };
      if (p.joined.some((j) => j.callId === req.callId) || p.joined.length >= MAX_JOINED) return same(answer);
      return { state: changed(s, { plan: { ...p, joined: [...p.joined, { callId: req.callId, at: now }] } }), answer, notify: [] };
    }
    case 'reserve': {
      const key = reservationKey(req.callId, req.attempt);
      // A law's cap may count further back than 24 hours (Regulation F: 7 days); older reservations count against nothing.
      const kept = inWindow(s.reservations, now, Math.max(CAP_WINDOW_MS, ...(req.limits ?? []).map((l) => l.windowMs)));
      // A retried or replayed request for a slot already taken: allowed again, no second slot.
      if (s.reservations.some((r) => r.key === key))
        return same({ kind: 'allowed', used: inWindow(s.reservations, now).length, cap: req.cap });
      const refused = reserveRefusal(kept, req, now);
      if (refused) return same(refused);
      const reservations = [...kept, { key, callId: req.callId, attempt: req.attempt, at: now }];
      return {
        state: changed(s, { reservations }),
        answer: { kind: 'allowed', used: inWindow(reservations, now).length, cap: req.cap },
        notify: [],
      };
    }
    case 'release': {
      const key = reservationKey(req.callId, req.attempt);
      if (!s.reservations.some((r) => r.key === key)) return same({ kind: 'released' });
      return { state: changed(s, { reservations: s.reservations.filter((r) => r.key !== key) }), answer: { kind: 'released' }, notify: [] };
    }
    case 'endPlan': {
      const p = s.plan;
      if (!p || p.ownerCallId !== req.callId) return same({ kind: 'ended', settled: [] });
      const notify = p.joined.map((j) => ({
        callId: j.callId,
        ownerCallId: p.ownerCallId,
        status: req.status,
        ...(req.reason ? { reason: req.reason } : {}),
      }));
      const next = changed(s, {});
      delete next.plan;
      return { state: next, answer: { kind: 'ended', settled: notify.map((n) => n.callId) }, notify };
    }
  }
}

/** "moved to 09:10 America/Chicago on Sat 2026-11-28 (24-hour cap: 3 attempts)"; a law's cap names the law. */
export function capMovedText(ms: number, zone: string, cap: number, rule?: string): string {
  const t = localTime(ms, zone);
  const pad = (n: number) => String(n).padStart(2, '0');
  const day = `${t.weekday[0].toUpperCase()}${t.weekday.slice(1)} ${t.year}-${pad(t.month)}-${pad(t.day)}`;
  return `moved to ${pad(t.hour)}:${pad(t.minute)} ${zone} on ${day} (${rule ?? capRule(cap)})`;
}

export const capRule = (cap: number) => `24-hour cap: ${cap} attempt${cap === 1 ? '' : 's'}`;

/** A call workflow's part in its contact's plan: the owner tells the contact when the plan ends, once. */
export interface CallGateRole {
  owner: boolean;
  endReported: boolean;
}

/** What a person sees of the rules on the contact (GET /api/contacts/:id). */
export interface GateSummary {
  attemptsLast24h: number;
  cap: number;
  /** When the next attempt may be placed, if the cap is full now. */
  nextFreeAt?: string;
  plan?: { ownerCallId: string; since: string; joined: string[] };
}

export function gateSummary(s: ContactGateState, cap: number, now: number): GateSummary {
  const out: GateSummary = { attemptsLast24h: inWindow(s.reservations, now).length, cap };
  const free = nextFreeAt(s.reservations, cap, now);
  if (free !== undefined) out.nextFreeAt = iso(free);
  if (s.plan) out.plan = { ownerCallId: s.plan.ownerCallId, since: iso(s.plan.since), joined: s.plan.joined.map((j) => j.callId) };
  return out;
}
