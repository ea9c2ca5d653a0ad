// The per-organization daily budget of unattended follow-up calls. Counted exactly once per
// attempt: each attempt inserts its own document (unique _id), and the day's count is read after
// the insert. Many calls of one organization dial at once, and FerretDB loses concurrent updates
// of one counter document, so there is no shared counter to $inc.
import { budgetRefusal } from '../domain/spending';
import { type Collections, isDuplicateKey } from './db';

export const utcDay = (at: Date): string => at.toISOString().slice(0, 10);

/**
 * Takes one unit of the day's budget for the attempt `id`, or says why not. A retry of an attempt
 * that already holds its unit keeps it. At the edge two concurrent attempts may both see the count
 * over and both give their unit back: the budget is never exceeded, at worst one call waits.
 */
export async function takeDialBudget(col: Collections, orgId: string, id: string, budget: number, now: Date): Promise<string | undefined> {
  const day = utcDay(now);
  try {
    await col.dialBudget.insertOne({ _id: id, orgId, day, at: now });
  } catch (err) {
    if (isDuplicateKey(err)) return undefined;
    throw err;
  }
  const used = await col.dialBudget.countDocuments({ orgId, day });
  const refused = budgetRefusal(used, budget, day);
  if (refused) await col.dialBudget.deleteOne({ _id: id, orgId });
  return refused;
}

/** Unattended follow-up calls counted against the organization's budget on the UTC day of `at`. */
export async function dialBudgetUsed(col: Collections, orgId: string, at: Date): Promise<number> {
  return col.dialBudget.countDocuments({ orgId, day: utcDay(at) });
}
