// The one unwrapping of a failed activity in workflow code: the cause's type and message, not the wrapper's.
import { ActivityFailure, ApplicationFailure, RetryState } from '@temporalio/common';
import { activityError } from '../../../workflows/activityError';

const wrapped = (cause: Error) =>
  new ActivityFailure('Activity task failed', 'sendThankYouEmail', '1', RetryState.MAXIMUM_ATTEMPTS_REACHED, 'worker', cause);

test('an ActivityFailure says what failed inside it', () => {
  expect(activityError(wrapped(ApplicationFailure.create({ message: 'contact has no email address', type: 'NoEmailAddress' })))).toEqual({
    type: 'NoEmailAddress',
    message: 'contact has no email address',
  });
  expect(activityError(wrapped(new Error('connect ECONNREFUSED')))).toEqual({ type: undefined, message: 'connect ECONNREFUSED' });
});

test('anything else is taken as it is', () => {
  expect(activityError(new Error('timed out'))).toEqual({ type: undefined, message: 'timed out' });
  expect(activityError('plain')).toEqual({ type: undefined, message: 'plain' });
});
