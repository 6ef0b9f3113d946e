// The CDK app: the Tally stack, configured from Tally's configuration file. Credentials in that file are
// never deployed; the functions read them from Secrets Manager (see "Deploying to AWS" in the README).
import { fileURLToPath } from 'node:url';
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { loadConfigFile } from '../lambdas/config-file';
import { auditLockFromContext } from '../lib/audit-lock-context';
import { lookupEnvironment, networkSettings } from '../lib/network-settings';
import { TallyStack } from '../lib/tally-stack';

const EXAMPLE_CONFIG = fileURLToPath(new URL('../lib/tally.example.json', import.meta.url));

const app = new App();
const context = (key: string): string | undefined => {
  const value: unknown = app.node.tryGetContext(key);
  return typeof value === 'string' && value.trim() !== '' ? value : undefined;
};

const configPath = context('config') ?? process.env.TALLY_CONFIG ?? EXAMPLE_CONFIG;
const config = await loadConfigFile(configPath);
const schedule = context('schedule') ?? 'disabled';
if (schedule !== 'enabled' && schedule !== 'disabled') {
  throw new Error(`-c schedule=${schedule}: expected 'enabled' or 'disabled'`);
}
// Unset: deployed, and run daily once the schedule is; 'enabled': run daily whatever the schedule.
const auditVerification = context('auditVerification');
if (auditVerification !== undefined && auditVerification !== 'enabled' && auditVerification !== 'disabled') {
  throw new Error(`-c auditVerification=${auditVerification}: expected 'enabled' or 'disabled'`);
}
const freshnessText = context('freshnessIntervals');
const freshnessIntervals = freshnessText === undefined ? undefined : Number(freshnessText);
if (freshnessIntervals !== undefined && !(Number.isInteger(freshnessIntervals) && freshnessIntervals >= 1)) {
  throw new Error(
    `-c freshnessIntervals=${freshnessText}: expected a whole number of schedule intervals, at least 1`,
  );
}
const alertEmails = context('alertEmails')
  ?.split(',')
  .map((e) => e.trim());

const network = networkSettings(context);
// Environment-agnostic on purpose: no account or region is fixed, so synth needs no AWS credentials and
// the same template deploys wherever the CLI's profile points; only a VPC named without its subnets is
// looked up, in the profile's account and region.
const env = lookupEnvironment(network);
new TallyStack(app, context('stackName') ?? 'Tally', {
  ...(env ? { env } : {}),
  description: 'Tally: audited PostgreSQL to Snowflake transfers',
  config,
  postgresSecret: context('postgresSecret'),
  snowflakeSecret: context('snowflakeSecret'),
  useConfiguredBucket: context('useConfiguredBucket') === 'true',
  ...(network ? { network } : {}),
  snowflakeIamUserArn: context('snowflakeIamUser'),
  snowflakeExternalId: context('snowflakeExternalId'),
  alertEmails,
  secretsKmsKeyArn: context('secretsKmsKeyArn'),
  ...auditLockFromContext(context),
  scheduleEnabled: schedule === 'enabled',
  auditVerification: auditVerification !== 'disabled',
  ...(auditVerification === 'enabled' ? { auditVerificationScheduleEnabled: true } : {}),
  auditCheckpointSecretArn: context('auditCheckpointSecretArn'),
  ...(freshnessIntervals !== undefined ? { freshnessIntervals } : {}),
});

Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
