// The activities a workflow's history shows, in order: local ones from their markers, the others
// from their scheduled events. Each is one activation of the workflow (its result wakes it).
import { temporal } from '@temporalio/proto';

type History = temporal.api.history.v1.IHistory;

export function activitiesIn(history: History): string[] {
  const names: string[] = [];
  for (const e of history.events ?? []) {
    const marker = e.markerRecordedEventAttributes;
    if (marker?.markerName === 'core_local_activity') {
      const data = marker.details?.data?.payloads?.[0]?.data;
      if (data) names.push(String((JSON.parse(Buffer.from(data).toString()) as { activity_type: string }).activity_type));
    }
    const scheduled = e.activityTaskScheduledEventAttributes?.activityType?.name;
    if (scheduled) names.push(scheduled);
  }
  return names;
}

/** How many workflow tasks the history holds (each is at least one activation). */
export const workflowTasksIn = (history: History): number =>
  (history.events ?? []).filter((e) => e.eventType === temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED).length;
