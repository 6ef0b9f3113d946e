// Three tiers, all run by `npm test`: `unit` (no server: domain, steps, runtime, adapters' pure parts, the
// command line's parsing), `infra` (the CDK app synthesized, checked and bundled) and `integration` (real
// PostgreSQL, the S3 stand-in and the Snowflake stand-in, started once for the tier: the product against
// them, the stand-ins themselves, and the fault scenarios). `npm run test:unit` runs the first alone.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    setupFiles: ['test/support/setup-env.ts'],
    env: {
      SNOWFLAKE_DISABLE_PLATFORM_DETECTION: 'true',
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    testTimeout: 60_000,
    hookTimeout: 120_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          setupFiles: ['test/support/no-network.ts'],
        },
      },
      { extends: true, test: { name: 'infra', include: ['test/infra/**/*.test.ts'] } },
      {
        extends: true,
        test: {
          name: 'integration',
          include: [
            'test/integration/**/*.test.ts',
            'test/local/**/*.test.ts',
            'test/faults/**/*.test.ts',
            'test/conformance/**/*.test.ts',
          ],
          globalSetup: ['test/support/global-setup.ts'],
        },
      },
    ],
  },
});
