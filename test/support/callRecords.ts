// Realistic call records for analytics tests and the analytics benchmark: what a finished (or
// unfinished) call's workflow leaves in the calls collection, with a seeded random mix of
// platforms, agents, outcomes, durations, costs, analyses, emails and follow-up plans.
import type { CallDoc } from '../../src/store/db';
import type { Provider } from '../../src/domain/events';
import { docId } from '../../src/store/db';

export interface RecordMix {
  orgId: string;
  /** Creation times are spread uniformly over [from, to). */
  from: number;
  to: number;
  count: number;
  seed?: number;
  idPrefix?: string;
}

/** Agents belong to one platform each, as they do in practice. */
export const AGENTS: { agentId?: string; provider: Provider }[] = [
  { agentId: 'agent_sales', provider: 'retell' },
  { agentId: 'agent_support', provider: 'retell' },
  { agentId: 'asst.renewals', provider: 'vapi' },
  { agentId: 'asst_winback', provider: 'vapi' },
  { agentId: 'pathway_intake', provider: 'bland' },
  { provider: 'twilio' },
];

const OUTCOME_MIX: [string, number][] = [
  ['completed', 0.52],
  ['no-answer', 0.2],
  ['voicemail', 0.12],
  ['busy', 0.08],
  ['failed', 0.05],
  ['canceled', 0.03],
];

/** A small deterministic generator (a linear congruential one), so runs compare. */
export function random(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

export function callRecords(mix: RecordMix): CallDoc[] {
  const rnd = random(mix.seed ?? 1);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)];
  const out: CallDoc[] = [];
  for (let i = 0; i < mix.count; i++) {
    const createdAt = new Date(Math.floor(mix.from + rnd() * (mix.to - mix.from)));
    const { agentId, provider } = pick(AGENTS);
    const callId = `${mix.idPrefix ?? 'rec'}_${i}`;
    let r = rnd();
    let outcome = 'completed';
    for (const [o, p] of OUTCOME_MIX) {
      if (r < p) {
        outcome = o;
        break;
      }
      r -= p;
    }
    const open = rnd() < 0.03;
    const connected = outcome === 'completed' || outcome === 'voicemail';
    const durationSec = connected ? Math.round(10 + rnd() * rnd() * 900) : outcome === 'no-answer' ? 0 : undefined;
    const updatedAt = new Date(createdAt.getTime() + (open ? Math.floor(rnd() * 3) * 3_600_000 : (durationSec ?? 0) * 1000 + 5_000));
    const doc: CallDoc = {
      _id: docId(mix.orgId, callId),
      orgId: mix.orgId,
      callId,
      provider,
      workflowId: `call:${mix.orgId}:${provider}:${callId}`,
      status: open ? pick(['initiated', 'ringing', 'answered'] as const) : connected ? 'completed' : 'failed',
      recordingReady: connected,
      eventCount: open ? 1 : 3,
      timeline: [],
      owners: {},
      from: '+14155550100',
      to: `+1415555${String(1000 + (i % 9000)).padStart(4, '0')}`,
      contactId: `contact_${i % 5000}`,
      createdAt,
      updatedAt,
      ...(agentId && { agentId }),
    };
    if (!open) {
      doc.outcome = outcome as CallDoc['outcome'];
      if (durationSec !== undefined) doc.durationSec = durationSec;
      if (rnd() < 0.85)
        doc.cost = {
          amountCents: Math.round((durationSec ?? 0) * 0.15 * 100 + 5) / 100,
          currency: rnd() < 0.9 ? 'USD' : 'EUR',
          source: `${provider}.cost`,
        };
      if (connected && rnd() < 0.7) doc.analysis = { summary: 'talked', successful: rnd() < 0.6 };
      const e = rnd();
      doc.email = { status: e < 0.6 ? 'sent' : e < 0.85 ? 'skipped' : e < 0.95 ? 'failed' : 'sending', at: updatedAt };
      if (!connected && rnd() < 0.8) {
        const attempts = Array.from({ length: 1 + Math.floor(rnd() * 3) }, (_, k) => {
          const s = rnd();
          const status = s < 0.3 ? 'answered' : s < 0.6 ? 'unanswered' : s < 0.8 ? 'scheduled' : 'canceled';
          return {
            attempt: k + 1,
            scheduledFor: updatedAt.toISOString(),
            status,
            ...(status === 'answered' || status === 'unanswered' ? { placedAt: updatedAt.toISOString() } : {}),
          };
        });
        const history: Record<string, unknown>[] = [{ at: updatedAt.toISOString(), event: 'scheduled', attempt: 1 }];
        if (rnd() < 0.2) history.push({ at: updatedAt.toISOString(), event: 'moved', attempt: 1, detail: 'moved to 08:00' });
        if (rnd() < 0.05) history.push({ at: updatedAt.toISOString(), event: 'canceled', attempt: attempts.length, by: 'do-not-call' });
        doc.followUp = { rev: history.length, status: 'scheduled', attempt: attempts.length, attempts, history };
      }
    } else if (rnd() < 0.3) {
      (doc as CallDoc & { stale?: unknown }).stale = { since: updatedAt.toISOString(), reason: 'the platform could not say', polls: 4 };
    }
    out.push(doc);
  }
  return out;
}
