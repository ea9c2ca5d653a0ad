// Tests of other behaviour must not depend on the hour they run at: their organizations get a
// calling window open all day, for informational calls (no calling law narrows it). Tests of the
// window and of the law use the defaults.
import { WEEKDAYS } from '../../src/domain/callingWindow';
import { DEFAULT_COMPLIANCE } from '../../src/store/compliance';
import type { Collections } from '../../src/store/db';

export async function openAllDay(col: Collections, ...orgIds: string[]): Promise<void> {
  const compliance = {
    ...DEFAULT_COMPLIANCE,
    purpose: 'informational' as const,
    callingWindow: { start: '00:00', end: '24:00', days: [...WEEKDAYS], regions: [] },
  };
  for (const orgId of orgIds) {
    await col.organizations.updateOne(
      { _id: orgId },
      { $set: { compliance }, $setOnInsert: { name: orgId, createdAt: new Date() } },
      { upsert: true },
    );
  }
}
