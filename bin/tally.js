#!/usr/bin/env node
// Launches the TypeScript command line. The two variables below must be set before any AWS or
// Snowflake library loads: otherwise they probe cloud metadata addresses on their own.
process.env.SNOWFLAKE_DISABLE_PLATFORM_DETECTION ??= 'true';
process.env.AWS_EC2_METADATA_DISABLED ??= 'true';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const { register } = await import('tsx/esm/api');
register();
await import('./tally.ts');
