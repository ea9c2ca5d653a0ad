// Custom search attributes the call workflow sets, so people can filter calls in the Temporal UI
// (`CallStatus="failed" AND CallOutcome="no-answer"`). The dev server registers them at start
// (scripts/stack.ts passes each as --search-attribute Name=Type); production registers them once
// with `temporal operator search-attribute create`.
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const SA = {
  orgId: defineSearchAttributeKey('OrgId', SearchAttributeType.KEYWORD),
  callStatus: defineSearchAttributeKey('CallStatus', SearchAttributeType.KEYWORD),
  callOutcome: defineSearchAttributeKey('CallOutcome', SearchAttributeType.KEYWORD),
  callProvider: defineSearchAttributeKey('CallProvider', SearchAttributeType.KEYWORD),
  contactId: defineSearchAttributeKey('ContactId', SearchAttributeType.KEYWORD),
  nextFollowUpAt: defineSearchAttributeKey('NextFollowUpAt', SearchAttributeType.DATETIME),
  followUpAttempt: defineSearchAttributeKey('FollowUpAttempt', SearchAttributeType.INT),
} as const;

/** `Name=Type` pairs in the form `temporal server start-dev --search-attribute` takes. */
export const SEARCH_ATTRIBUTE_FLAGS: readonly string[] = [
  'OrgId=Keyword',
  'CallStatus=Keyword',
  'CallOutcome=Keyword',
  'CallProvider=Keyword',
  'ContactId=Keyword',
  'NextFollowUpAt=Datetime',
  'FollowUpAttempt=Int',
];
