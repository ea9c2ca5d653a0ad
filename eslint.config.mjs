// Two rules carry most of the weight (see ../shared/guide/architecture.md): a forgotten `await`
// on an activity or a database call is a silent bug, and workflow code must stay deterministic,
// so it may not import Node built-ins or anything that does I/O.
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', '.tools/', '.data/', '.test-data/', 'coverage/', '**/*.js', '**/*.mjs'] },
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.base],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      '@typescript-eslint/await-thenable': 'error',
    },
  },
  {
    files: ['workflows/**/*.ts', 'src/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.map((name) => ({ name, message: 'Workflow and domain code must be deterministic: no Node built-ins.' })),
          patterns: [
            { group: ['**/activities', '**/activities/*'], importNamePattern: '^(?!Activities$)', message: 'Workflows import activity types only.' },
            { group: ['**/store/*', '**/http/*', 'mongodb', 'koa', '@temporalio/client', '@temporalio/worker', '@temporalio/activity'], message: 'No I/O from workflow or domain code.' },
          ],
        },
      ],
    },
  },
);
