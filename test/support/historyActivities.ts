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
