// A contact's call figures and how a counted call changes them. Pure: the contact's workflow
// and its activity share it, and tests run it without servers.

export interface ContactFigures {
  callCount: number;
  /** ISO time of the latest call (by the call's own date, not by when we learnt of it). */
  lastCallDate?: string;
  lastCallId?: string;
  lastCallDuration?: number;
}

/** A finished call, as the call's workflow reports it to the contact's workflow. */
export interface CountedCall {
  callId: string;
  /** ISO time of the call: its end, else its start, else when we learnt of it. */
  date: string;
  durationSec?: number;
}

export const noFigures = (): ContactFigures => ({ callCount: 0 });

/**
 * The figures once `call` is counted. The count always grows; the "last call" fields follow the
 * call with the latest date, so a late report of an older call does not overwrite them. Ties are
 * broken by call id so the result does not depend on the order of reports.
 */
export function countCall(f: ContactFigures, call: CountedCall): ContactFigures {
  const next: ContactFigures = { ...f, callCount: f.callCount + 1 };
  if (isLater(call, f)) {
    next.lastCallDate = call.date;
    next.lastCallId = call.callId;
    next.lastCallDuration = call.durationSec;
    if (call.durationSec === undefined) delete next.lastCallDuration;
  }
  return next;
}

function isLater(call: CountedCall, f: ContactFigures): boolean {
  if (f.lastCallDate === undefined) return true;
  const a = timeOf(call.date);
  const b = timeOf(f.lastCallDate);
  if (a !== b) return a > b;
  return call.callId > (f.lastCallId ?? '');
}

/** Milliseconds of an ISO time; an unreadable one sorts before every real date. */
const timeOf = (iso: string): number => {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? -Infinity : t;
};

/** Keeps only the figure fields of a stored record. */
export function pickFigures(doc: Partial<ContactFigures> | null | undefined): ContactFigures {
  if (!doc) return noFigures();
  const f: ContactFigures = { callCount: typeof doc.callCount === 'number' ? doc.callCount : 0 };
  if (doc.lastCallDate !== undefined) f.lastCallDate = doc.lastCallDate;
  if (doc.lastCallId !== undefined) f.lastCallId = doc.lastCallId;
  if (doc.lastCallDuration !== undefined) f.lastCallDuration = doc.lastCallDuration;
  return f;
}
