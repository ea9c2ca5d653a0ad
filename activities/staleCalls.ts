// Asking a platform about a call whose end never arrived (src/domain/stale.ts decides when). An
// ordinary activity, not a local one: it talks to the internet, and Temporal retries it with
// backoff while the platform is unreachable or busy.
import { ApplicationFailure } from '@temporalio/common';
import { Context } from '@temporalio/activity';
import type { Provider } from '../src/domain/events';
import type { PollAnswer } from '../src/domain/stale';
import { answerFromGetCall, getCallRequest, isPollable } from '../src/providers/getCall';
import type { Collections } from '../src/store/db';
import { platformCredentials } from '../src/store/platformApis';

export interface StaleCallActivityDeps {
  col: Collections;
  /** HTTP client for the platforms' APIs (tests may wrap it). */
  fetch?: typeof fetch;
  /** Timeout of one request to a platform (FOLLOW_UP_DIAL_TIMEOUT). */
  dialTimeoutMs?: number;
}

export interface PollCallInput {
  orgId: string;
  callId: string;
  provider: Provider;
}

/** The activity's retryable failure type: the workflow takes "out of tries" as "cannot say this time". */
export const PLATFORM_UNAVAILABLE = 'PlatformUnavailable';

export const createStaleCallActivities = ({ col, fetch: fetchImpl = fetch, dialTimeoutMs = 15_000 }: StaleCallActivityDeps) => ({
  /**
   * Asks the call's platform how the call stands. Answers "ended" (with the events), "ongoing", or
   * "unknown" (final: no credentials, unknown call, refused key; not final: a bad answer). Network
   * errors, 429 and 5xx throw a retryable failure.
   */
  async pollCallStatus(input: PollCallInput): Promise<PollAnswer> {
    const { orgId, callId, provider } = input;
    if (!isPollable(provider)) {
      return { kind: 'unknown', reason: `a ${provider} call has no platform to ask how it ended`, final: true };
    }
    const found = await platformCredentials(col, orgId, provider);
    if ('missing' in found) return { kind: 'unknown', reason: found.missing, final: true };
    const req = getCallRequest(found.credentials, callId);
    const signal = AbortSignal.any([AbortSignal.timeout(dialTimeoutMs), Context.current().cancellationSignal]);
    let res: Response;
    let text: string;
    try {
      res = await fetchImpl(req.url, { method: 'GET', headers: req.headers, signal });
      text = await res.text();
    } catch (err) {
      throw ApplicationFailure.retryable(`could not reach ${provider} (${(err as Error)?.message ?? err})`, PLATFORM_UNAVAILABLE);
    }
    const excerpt = text.slice(0, 200);
    if (res.status === 429 || res.status >= 500) {
      throw ApplicationFailure.retryable(`${provider} answered HTTP ${res.status}: ${excerpt}`, PLATFORM_UNAVAILABLE);
    }
    if (res.status === 404) return { kind: 'unknown', reason: `${provider} does not know the call (HTTP 404)`, final: true };
    if (res.status === 401 || res.status === 403) {
      return {
        kind: 'unknown',
        reason: `${provider} refused the stored credentials (HTTP ${res.status}): check them with platform set`,
        final: true,
      };
    }
    if (!res.ok) return { kind: 'unknown', reason: `${provider} answered HTTP ${res.status}: ${excerpt}`, final: true };
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return { kind: 'unknown', reason: `${provider} answered with something other than JSON: ${excerpt}`, final: false };
    }
    return answerFromGetCall(provider, callId, json, new Date().toISOString());
  },
});
