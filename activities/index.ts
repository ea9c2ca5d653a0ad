// The worker's activities, built from their dependencies. Tests build them the same way, with
// dependencies pointed at test servers.
import type { Collections } from '../src/store/db';
import { createCallActivities } from './calls';
import { createContactActivities } from './contacts';
import { createEmailActivities, type Mailer } from './email';
import { createFollowUpActivities } from './followUps';
import { createComplianceActivities } from './compliance';
import { createStaleCallActivities } from './staleCalls';
import { createSettleActivities } from './settle';

export interface ActivityDeps {
  col: Collections;
  /** SMTP transport for the thank-you email (nodemailer). Without it the email is recorded as skipped. */
  mailer?: Mailer;
  /** From address of the emails. */
  smtpFrom?: string;
  /** HTTP client for the platforms' outbound-call APIs; the global fetch by default. */
  fetch?: typeof fetch;
  /** Timeout of one outbound-call request. */
  dialTimeoutMs?: number;
}

export const createActivities = (deps: ActivityDeps) => ({
  ...createCallActivities(deps),
  ...createContactActivities(deps),
  ...createEmailActivities(deps),
  ...createFollowUpActivities(deps),
  ...createComplianceActivities(deps),
  ...createStaleCallActivities(deps),
  ...createSettleActivities(deps),
});

export type Activities = ReturnType<typeof createActivities>;
export type { Mailer };
