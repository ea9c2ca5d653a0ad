// Custom search attributes the call workflow sets, so people can filter calls in the Temporal UI
// (`CallStatus="failed" AND CallOutcome="no-answer"`). The dev server registers them at start
// (scripts/stack.ts passes each as --search-attribute Name=Type); production registers them once
// with `temporal operator search-attribute create`.
import { type SearchAttributeUpdatePair, defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import type { CallPublication } from '../domain/callDetails';

export const SA = {
  orgId: defineSearchAttributeKey('OrgId', SearchAttributeType.KEYWORD),
  callStatus: defineSearchAttributeKey('CallStatus', SearchAttributeType.KEYWORD),
  callOutcome: defineSearchAttributeKey('CallOutcome', SearchAttributeType.KEYWORD),
  callProvider: defineSearchAttributeKey('CallProvider', SearchAttributeType.KEYWORD),
  contactId: defineSearchAttributeKey('ContactId', SearchAttributeType.KEYWORD),
  nextFollowUpAt: defineSearchAttributeKey('NextFollowUpAt', SearchAttributeType.DATETIME),
  followUpAttempt: defineSearchAttributeKey('FollowUpAttempt', SearchAttributeType.INT),
  /** True while the call is marked stale: no end reported, and its platform could not say (src/domain/stale.ts). */
  callStale: defineSearchAttributeKey('CallStale', SearchAttributeType.BOOL),
} as const;

/** The CLI's spelling of each type (`Keyword`, `Datetime`, `Int`, ...). */
const cliType = (t: string) => t.charAt(0) + t.slice(1).toLowerCase();

/** `Name=Type` pairs in the form `temporal server start-dev --search-attribute` takes, made from SA. */
export const SEARCH_ATTRIBUTE_FLAGS: readonly string[] = Object.values(SA).map((k) => `${k.name}=${cliType(k.type)}`);

/** The values a call's workflow upserts; the workflow skips an upsert that would change nothing (each is a history event). */
export const callAttributes = (d: CallPublication): SearchAttributeUpdatePair[] => [
  { key: SA.callStatus, value: d.status },
  { key: SA.callOutcome, value: d.outcome },
  { key: SA.contactId, value: d.contactId },
  { key: SA.callStale, value: d.stale },
  { key: SA.nextFollowUpAt, value: d.nextFollowUpAt },
  { key: SA.followUpAttempt, value: d.followUpAttempt },
];
