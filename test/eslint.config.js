// Lint rules: typescript-eslint's recommended set, plus the few rules that catch real bugs in async daemons.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { dirname } from 'node:path';

// This file lives in test/ (`eslint -c test/eslint.config.js .`, run from the repository root).
const ROOT = dirname(import.meta.dirname);

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', 'src/native/build/', '.lvskeep-test/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: ROOT },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  { files: ['**/*.js', '**/*.mjs'], ...tseslint.configs.disableTypeChecked },
);
