// What the read API returns: the stored documents without internal fields.
import type { CallDoc, ContactDoc } from '../store/db';

export function callView(doc: CallDoc, links: { temporalUiUrl: string; namespace: string }) {
  const { _id, owners, orgId, effectsDone, ...rest } = doc;
  return {
    ...rest,
    /** The spec's `duration`, in seconds. */
    duration: doc.durationSec,
    temporalUi: `${links.temporalUiUrl}/namespaces/${encodeURIComponent(links.namespace)}/workflows/${encodeURIComponent(doc.workflowId)}`,
  };
}

export function contactView(doc: ContactDoc) {
  const { _id, orgId, ...rest } = doc;
  return rest;
}
