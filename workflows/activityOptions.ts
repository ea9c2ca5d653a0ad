// How the call workflow's activities are retried, in one place: the call workflow's proxies and
// the contact gate's (workflows/contactGate.ts) read these. Deterministic: no Node imports.
import type { ActivityOptions, LocalActivityOptions, RetryPolicy } from '@temporalio/common';
import type { WorkflowSettings } from '../src/config';
import { POLL_TRIES } from '../src/domain/stale';
import { EMAIL_NOT_RETRIED } from '../src/domain/thankYou';

const backoff: RetryPolicy = { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m' };

/** Our own database (local activities: in the worker, inside the workflow task): retried until it answers. */
export const localOptions = (s: WorkflowSettings): LocalActivityOptions => ({ startToCloseTimeout: s.activityTimeoutMs, retry: backoff });

/** The thank-you email: EMAIL_MAX_TRIES, and no retry when there is no address or no mailer. */
export const mailOptions = (s: WorkflowSettings): ActivityOptions => ({
  startToCloseTimeout: s.activityTimeoutMs,
  retry: { ...backoff, maximumAttempts: s.emailMaxTries, nonRetryableErrorTypes: [...EMAIL_NOT_RETRIED] },
});

/** A follow-up call placed with the platform: FOLLOW_UP_DIAL_MAX_TRIES, then the attempt is due for a person. */
export const dialOptions = (s: WorkflowSettings): ActivityOptions => ({
  startToCloseTimeout: s.activityTimeoutMs,
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '2m', maximumAttempts: s.followUpDialMaxTries },
});

/** Asking the platform about a call whose end never came (src/domain/stale.ts). */
export const pollOptions = (s: WorkflowSettings): ActivityOptions => ({
  startToCloseTimeout: s.activityTimeoutMs,
  retry: { initialInterval: '5s', backoffCoefficient: 2, maximumInterval: '1m', maximumAttempts: POLL_TRIES },
});
