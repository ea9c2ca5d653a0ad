export * from './events';
export * from './lifecycle';
export * from './effects';
export * from './contact';
export * from './phone';
