// The worker's Prometheus metrics: activity attempts by type and outcome, and the business
// outcomes its activities decide (emails, follow-up states, dial refusals), counted as they finish.
// Node only; the receiver never loads this file, so the HTTP layer never reaches the activities.
import { CancelledFailure, type Context as ActivityContext } from '@temporalio/activity';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { ApplicationFailure } from '@temporalio/common';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Activities } from '../../activities';
import { SECONDS } from './metrics';

export function createWorkerMetrics(opts: { processMetrics?: boolean } = {}) {
  const registry = new Registry();
  if (opts.processMetrics !== false) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  return {
    registry,
    activities: new Counter({
      name: 'calls_api_activities_total',
      help: 'Activity attempts finished in this worker, by activity type and outcome (completed, failed, cancelled)',
      labelNames: ['activity', 'outcome'] as const,
      registers,
    }),
    activityDuration: new Histogram({
      name: 'calls_api_activity_duration_seconds',
      help: 'Time one activity attempt took, by activity type',
      labelNames: ['activity'] as const,
      buckets: SECONDS,
      registers,
    }),
    followUps: new Counter({
      name: 'calls_api_follow_ups_total',
      help: 'Follow-up plan changes written to call records, by the state they leave the plan in (scheduled, placed, due, canceled, exhausted, answered...)',
      labelNames: ['state'] as const,
      registers,
    }),
    dialRefusals: new Counter({
      name: 'calls_api_follow_up_dial_refusals_total',
      help: "Follow-up attempts not dialed and left due for a person, by guard: country (not an allowed calling code), number_type (premium rate, shared cost, UAN, personal, international network), budget (the organization's daily dial budget is used)",
      labelNames: ['guard'] as const,
      registers,
    }),
    emails: new Counter({
      name: 'calls_api_emails_total',
      help: 'Thank-you emails by final state: sent, skipped (no contact, address or SMTP server), failed (out of tries)',
      labelNames: ['state'] as const,
      registers,
    }),
  };
}
export type WorkerMetrics = ReturnType<typeof createWorkerMetrics>;

type ActivityName = keyof Activities;
const SKIP_TYPES = new Set(['NoEmailAddress', 'NoMailer']);

/**
 * Counts emails and follow-up states from the activities that decide them, as they finish:
 * counters, not database scans, so a scrape costs nothing. A worker that dies after an activity's
 * write and before reporting it makes Temporal run it again, which can count that one twice.
 */
function countOutcome(m: WorkerMetrics, activity: string, args: unknown[], result: unknown, err: unknown): void {
  switch (activity as ActivityName) {
    case 'thankYouSkipReason':
      if (!err && typeof result === 'string') m.emails.inc({ state: 'skipped' });
      return;
    case 'settleCall':
      if (!err && typeof (result as { thankYouSkip?: unknown } | undefined)?.thankYouSkip === 'string') m.emails.inc({ state: 'skipped' });
      return;
    case 'sendThankYouEmail':
      if (!err && (result as { status?: string })?.status === 'sent') m.emails.inc({ state: 'sent' });
      else if (err instanceof ApplicationFailure && SKIP_TYPES.has(err.type ?? '')) m.emails.inc({ state: 'skipped' });
      return;
    case 'recordEmailFailure':
      if (!err) m.emails.inc({ state: 'failed' });
      return;
    case 'placeFollowUpCall': {
      const guard = (result as { refusedBy?: string } | undefined)?.refusedBy;
      if (!err && guard) m.dialRefusals.inc({ guard });
      return;
    }
    case 'recordFollowUp': {
      const state = (args[0] as { plan?: { status?: string } })?.plan?.status;
      if (!err && result === 'saved' && state) m.followUps.inc({ state });
      return;
    }
  }
}

/** Worker interceptor: every activity attempt (local ones too) counted by type and outcome, and timed. */
export function activityMetrics(m: WorkerMetrics): ActivityInterceptorsFactory {
  return (ctx: ActivityContext) => ({
    inbound: {
      async execute(input, next) {
        const activity = ctx.info.activityType;
        const end = m.activityDuration.startTimer({ activity });
        try {
          const result = await next(input);
          m.activities.inc({ activity, outcome: 'completed' });
          countOutcome(m, activity, input.args, result, undefined);
          return result;
        } catch (err) {
          m.activities.inc({ activity, outcome: err instanceof CancelledFailure ? 'cancelled' : 'failed' });
          countOutcome(m, activity, input.args, undefined, err);
          throw err;
        } finally {
          end();
        }
      },
    },
  });
}
