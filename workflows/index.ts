export { callLifecycle } from './callLifecycle';
export { contactLifecycle } from './contactLifecycle';
