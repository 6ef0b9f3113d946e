// The CDK app as `cdk synth` runs it, with the least-privilege context settings: `-c auditObjectLock`
// and `-c auditObjectLockDays` create the bucket with Object Lock and lock each mirrored event,
// `-c secretsKmsKeyArn` grants kms:Decrypt through Secrets Manager only, and a wrong value stops the synth
// with a message naming the setting. The CLI passes `-c key=value` as CDK_CONTEXT_JSON
// (https://docs.aws.amazon.com/cdk/v2/guide/context.html). Bundling is skipped: the template is what is read.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ENV } from '../../lambdas/runtime/env';
import { synthApp } from '../support/cdk-app';
import { scratchFolder } from '../support/cli';

const out = scratchFolder('tally-app-lp');
const synth = (context: Record<string, string>, folder: string) => synthApp(context, join(out.path, folder));

const KEY_ARN = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';

describe('cdk synth with the least-privilege context settings', () => {
  it('creates the bucket with Object Lock and hands the functions the lock, and grants the secrets key', async () => {
    const run = await synth(
      {
        auditObjectLock: 'GOVERNANCE',
        auditObjectLockDays: '90',
        postgresSecret: 'tally/postgres',
        snowflakeSecret: 'tally/snowflake',
        secretsKmsKeyArn: KEY_ARN,
      },
      'locked',
    );
    expect(run.code).toBe(0);
    const buckets = run.resources.filter((r) => r.Type === 'AWS::S3::Bucket');
    expect(buckets.filter((b) => b.Properties.ObjectLockEnabled === true)).toHaveLength(1);
    const functions = run.resources.filter((r) => r.Type === 'AWS::Lambda::Function');
    expect(functions.length).toBeGreaterThan(0);
    for (const fn of functions) {
      const variables = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
      const config = JSON.stringify(variables[ENV.config]);
      expect(config).toContain('\\"auditRetention\\":{\\"mode\\":\\"GOVERNANCE\\",\\"days\\":90}');
    }
    const policies = JSON.stringify(run.resources.filter((r) => r.Type === 'AWS::IAM::Policy'));
    expect(policies).toContain(`"Action":"kms:Decrypt","Condition":{"StringEquals":{"kms:ViaService"`);
    expect(policies).toContain(`"Resource":"${KEY_ARN}"`);
  }, 180_000);

  it('stops at a wrong value, naming the setting', async () => {
    const [mode, days, key] = await Promise.all([
      synth({ auditObjectLock: 'strict' }, 'mode'),
      synth({ auditObjectLock: 'COMPLIANCE', auditObjectLockDays: 'ten' }, 'days'),
      synth({ secretsKmsKeyArn: 'alias/tally' }, 'key'),
    ]);
    expect(mode.code).not.toBe(0);
    expect(mode.stderr).toContain("-c auditObjectLock is 'strict': it must be GOVERNANCE or COMPLIANCE");
    expect(days.code).not.toBe(0);
    expect(days.stderr).toContain("-c auditObjectLockDays is 'ten': it must be a whole number of days");
    expect(key.code).not.toBe(0);
    expect(key.stderr).toContain("-c secretsKmsKeyArn is 'alias/tally': it must be a KMS key ARN");
  }, 180_000);
});
