export { callLifecycle } from './callLifecycle';
