// Tests are TypeScript run through ts-jest (transpile only; `npm run typecheck` checks types).
// Tiers by file name: *.unit.test.ts, *.int.test.ts (real RabbitMQ, files), *.e2e.test.ts (servers).
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json', diagnostics: false }],
  },
  moduleFileExtensions: ['ts', 'js', 'json'],
  setupFiles: ['<rootDir>/test/setup.ts'],
  testTimeout: 30000,
  // Integration tests share one RabbitMQ broker and ports; two workers fit this 2-core machine.
  maxWorkers: 2,
};
