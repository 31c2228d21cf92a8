// Lint rules, including the process boundaries of design.md: the renderer never touches Node or
// Electron, src/common imports nothing runtime-bound, the engine knows nothing of the app around it.
import tseslint from 'typescript-eslint';
import pluginVue from 'eslint-plugin-vue';
import vueParser from 'vue-eslint-parser';

const nodeBuiltins = [
  'fs',
  'path',
  'os',
  'child_process',
  'crypto',
  'http',
  'https',
  'net',
  'url',
  'util',
  'stream',
  'worker_threads',
  'zlib',
  'events',
  'buffer',
  'module',
  'process'
];
const nodePatterns = [{ group: ['node:*'], message: 'Node built-ins are not available here.' }];
const builtinPaths = nodeBuiltins.map((name) => ({ name, message: 'Node built-ins are not available here.' }));

export default tseslint.config(
  { ignores: ['out/**', 'dist/**', 'release/**', 'node_modules/**', 'scratch/**', 'coverage/**'] },
  ...tseslint.configs.recommended,
  ...pluginVue.configs['flat/recommended'],
  {
    files: ['**/*.vue'],
    languageOptions: {
      parser: vueParser,
      parserOptions: { parser: tseslint.parser, sourceType: 'module', extraFileExtensions: ['.vue'] }
    }
  },
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      // style.md: a function with more than four parameters takes one named object.
      'max-params': ['error', 4],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'vue/multi-word-component-names': 'off',
      'vue/max-attributes-per-line': 'off',
      'vue/singleline-html-element-content-newline': 'off',
      'vue/html-self-closing': 'off'
    }
  },
  {
    files: ['**/*.cjs'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: { require: 'readonly', __dirname: 'readonly', process: 'readonly' }
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' }
  },
  {
    files: ['src/renderer/**/*.{ts,vue}'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [...builtinPaths, { name: 'electron', message: 'The renderer talks to main only through KdApi.' }],
          patterns: [
            ...nodePatterns,
            {
              group: [
                '**/main/**',
                '**/engine/**',
                '**/host/**',
                '**/server/**',
                '**/cli/**',
                '@tensorflow/tfjs-node*'
              ],
              message: 'The renderer may import only src/common and its own files.'
            }
          ]
        }
      ]
    }
  },
  {
    files: ['src/common/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            ...builtinPaths,
            { name: 'electron', message: 'src/common is runtime-neutral.' },
            { name: 'vue', message: 'src/common is runtime-neutral.' }
          ],
          patterns: [
            ...nodePatterns,
            {
              group: [
                '@tensorflow/*',
                '**/engine/**',
                '**/main/**',
                '**/renderer/**',
                '**/host/**',
                '**/server/**',
                '**/cli/**'
              ],
              message: 'src/common imports nothing runtime-bound.'
            }
          ]
        }
      ]
    }
  },
  {
    files: ['src/engine/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            { name: 'electron', message: 'The engine runs without Electron.' },
            { name: 'vue', message: 'The engine has no UI.' }
          ],
          patterns: [
            {
              group: ['**/main/**', '**/renderer/**', '**/host/**', '**/server/**', '**/cli/**', '**/preload/**'],
              message: 'The engine depends on nothing above it.'
            }
          ]
        }
      ]
    }
  },
  {
    files: ['src/host/**/*.ts', 'src/server/**/*.ts', 'src/cli/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'electron', message: 'Only src/main and src/preload may import electron.' }],
          patterns: [
            { group: ['**/renderer/**', '**/main/**', '**/preload/**'], message: 'Layers depend downwards only.' }
          ]
        }
      ]
    }
  }
);
