// Request bodies the end-to-end tests post: the spec's generic webhook format.

/** A generic `call.completed` webhook body for `callId`; `over` adds fields or replaces them (keeping their place). */
export const genericCompleted = (callId: string, over: Record<string, unknown> = {}): Record<string, unknown> => ({
  callId,
  provider: 'generic',
  event: 'call.completed',
  from: '+14155551234',
  to: '+14155555678',
  duration: 180,
  status: 'completed',
  ...over,
});
