import { describe, expect, it } from 'vitest';
import {
  composeAlert,
  ERROR_MESSAGE_MAX_CHARS,
  executionLink,
  MESSAGE_MAX_BYTES,
  type RunFailure,
  SUBJECT_MAX_CHARS,
} from '../../../lambdas/domain/alert';

const ARN = 'arn:aws:states:eu-west-1:123456789012:execution:TallyStateMachine:incremental-01J';

const run = (overrides: Partial<RunFailure> = {}): RunFailure => ({
  pipeline: 'incremental',
  executionId: ARN,
  jobId: '01JOB',
  tablesPlanned: 3,
  failures: [
    { table: 'public.orders', stage: 'LoadSnowflake', error: 'WarehouseUnavailableError', message: 'down' },
  ],
  skipped: [],
  ...overrides,
});

describe('the alert of a failed run', () => {
  it('names each failed table with its stage, error and message, the job, the execution and its link', () => {
    const { subject, message } = composeAlert(run({ skipped: ['public.busy'] }));
    expect(subject).toBe('Tally: 1 of 3 table(s) failed in the incremental run');
    expect(message).toContain(
      '- public.orders: failed at LoadSnowflake with WarehouseUnavailableError: down',
    );
    expect(message).toContain(`Execution: ${ARN}`);
    expect(message).toContain('Job: 01JOB (tally audit --job 01JOB)');
    expect(message).toContain(
      `Console: https://eu-west-1.console.aws.amazon.com/states/home?region=eu-west-1#/v2/executions/details/${ARN}`,
    );
    expect(message).toContain('Skipped, held by another execution (not failed): public.busy');
    expect(message).not.toContain('{');
  });

  it('says planning failed, with its error, when no table ran', () => {
    const { subject, message } = composeAlert(
      run({
        jobId: undefined,
        tablesPlanned: 0,
        failures: [],
        planFailure: { error: 'SourceSchemaError', message: 'table public.gone does not exist' },
      }),
    );
    expect(subject).toBe('Tally: incremental run failed in planning (SourceSchemaError)');
    expect(message).toContain('SourceSchemaError: table public.gone does not exist');
    expect(message).not.toContain('Job:');
  });

  it('keeps the subject printable ASCII under 100 characters and the message under its budget', () => {
    const failures = Array.from({ length: 2_000 }, (_, i) => ({
      table: `schéma_${i}.tâble_${'x'.repeat(40)}`,
      stage: 'ExportToS3',
      error: 'SourceUnavailableError',
      message: `connection lost ${'é'.repeat(5_000)}`,
    }));
    const { subject, message } = composeAlert(
      run({ pipeline: 'historical', tablesPlanned: 2_000, failures }),
    );
    expect(subject.length).toBeLessThanOrEqual(SUBJECT_MAX_CHARS);
    expect(subject).toMatch(/^[\x20-\x7e]+$/);
    expect(Buffer.byteLength(message)).toBeLessThanOrEqual(MESSAGE_MAX_BYTES);
    // Each message clipped; the tables that do not fit are counted, not dropped silently.
    const listed = message.split('\n').filter((l) => l.startsWith('- schéma_'));
    expect(listed.length).toBeGreaterThan(10);
    expect(listed.length).toBeLessThan(2_000);
    for (const line of listed) expect(line.length).toBeLessThan(ERROR_MESSAGE_MAX_CHARS + 200);
    expect(message).toContain(`- and ${2_000 - listed.length} more table(s)`);
  });

  it('links an execution in each partition, and nothing for an ARN that is not one', () => {
    expect(executionLink(ARN)).toMatch(/^https:\/\/eu-west-1\.console\.aws\.amazon\.com\//);
    expect(executionLink(ARN.replace('arn:aws:', 'arn:aws-cn:').replace('eu-west-1', 'cn-north-1'))).toMatch(
      /^https:\/\/cn-north-1\.console\.amazonaws\.cn\//,
    );
    expect(
      executionLink(ARN.replace('arn:aws:', 'arn:aws-us-gov:').replace('eu-west-1', 'us-gov-west-1')),
    ).toMatch(/^https:\/\/us-gov-west-1\.console\.amazonaws-us-gov\.com\//);
    expect(executionLink('arn:aws:states:local:000000000000:execution:tally:x')).toBeNull();
    expect(executionLink('exec-1')).toBeNull();
  });
});
