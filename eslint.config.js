import tseslint from 'typescript-eslint';
import architecture from './eslint-rules/architecture.js';

export default tseslint.config(
  { ignores: ['node_modules/**', 'artifacts/**', 'dist/**', '.cache/**', 'renderer/dist/**', '.device/**', '.gl/**', 'device-run-out/**'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.tsx', '**/*.js'],
    plugins: { trove: { rules: { architecture } } },
    rules: {
      'trove/architecture': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
);
