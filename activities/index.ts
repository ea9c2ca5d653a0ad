// The worker's activities, built from their dependencies. Tests build them the same way, with
// dependencies pointed at test servers.
import type { Collections } from '../src/store/db';
import { createCallActivities } from './calls';
import { createContactActivities } from './contacts';

export interface ActivityDeps {
  col: Collections;
}

export const createActivities = (deps: ActivityDeps) => ({
  ...createCallActivities(deps),
  ...createContactActivities(deps),
});

export type Activities = ReturnType<typeof createActivities>;
