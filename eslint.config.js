import js from '@eslint/js'
import tseslint from 'typescript-eslint'
import jest from 'eslint-plugin-jest'
import prettier from 'eslint-config-prettier/flat'

export default tseslint.config(
  {
    ignores: [
      'dist/',
      'node_modules/',
      'coverage/',
      '.build/',
      '.cluster/',
      '.cache/',
      'test/cluster/',
      '*.js',
      '.dependency-cruiser.cjs',
      '__tests__/**/*.mjs'
    ]
  },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        project: [
          './tsconfig.json',
          './__tests__/tsconfig.json',
          './scripts/tsconfig.json'
        ],
        tsconfigRootDir: import.meta.dirname
      }
    },
    rules: {
      '@typescript-eslint/explicit-function-return-type': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      // client-node's generated models are classes, but its API takes plain
      // objects and serialises them field by field; literals are the idiom.
      '@typescript-eslint/no-unsafe-class-instance-assignment': 'off',
      '@typescript-eslint/restrict-template-expressions': [
        'error',
        { allowNumber: true }
      ]
    }
  },
  {
    // The build and cluster scripts are plain ES modules for Node: the
    // recommended rules, without type information (they carry none).
    files: ['scripts/**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      globals: Object.fromEntries(
        [
          'process',
          'console',
          'URL',
          'Buffer',
          'setTimeout',
          'clearTimeout',
          'setInterval',
          'clearInterval',
          'AbortController',
          'AbortSignal',
          'fetch',
          'TextDecoder',
          'TextEncoder'
        ].map((name) => [name, 'readonly'])
      )
    },
    rules: {
      ...tseslint.configs.disableTypeChecked.rules,
      // JavaScript has no return-type syntax.
      '@typescript-eslint/explicit-function-return-type': 'off'
    }
  },
  {
    files: ['__tests__/**/*.ts', '__fixtures__/**/*.ts'],
    ...jest.configs['flat/recommended'],
    rules: {
      ...jest.configs['flat/recommended'].rules,
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/require-await': 'off',
      'jest/no-conditional-expect': 'off',
      'jest/expect-expect': [
        'warn',
        // fc.assert runs a property whose body asserts with expect().
        { assertFunctionNames: ['expect', 'expectCleanFailure', 'fc.assert'] }
      ]
    }
  },
  prettier
)
