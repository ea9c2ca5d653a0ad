// typescript-eslint's type-checked recommended rules, and two that carry most of the weight (see
// ../shared/guide/architecture.md): a forgotten `await` on an activity or a database call is a
// silent bug, and workflow code must stay deterministic, so it may not import Node built-ins or
// anything that does I/O.
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', '.tools/', '.data/', '.test-data/', 'coverage/', '**/*.js', '**/*.mjs'] },
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.recommendedTypeChecked],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      '@typescript-eslint/await-thenable': 'error',
      // `const { _id, ...view } = doc` is how a field is left out: the rest is what is used.
      '@typescript-eslint/no-unused-vars': ['error', { ignoreRestSiblings: true, argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Tests read JSON answers and fakes' records as `any` on purpose: expect() is the type check.
    // Polling helpers take async predicates, so a predicate with nothing to await is still async.
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/require-await': 'off',
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
            {
              group: ['**/activities', '**/activities/*'],
              importNamePattern: '^(?!Activities$)',
              message: 'Workflows import activity types only.',
            },
            {
              group: ['**/store/*', '**/http/*', 'mongodb', 'koa', '@temporalio/client', '@temporalio/worker', '@temporalio/activity'],
              message: 'No I/O from workflow or domain code.',
            },
          ],
        },
      ],
    },
  },
);
