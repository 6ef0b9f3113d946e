import { describe, expect, it } from 'vitest';
import { type AuditEvent, type AuditEventInput, sealEvent } from '../../../lambdas/domain/audit';
import { jobEvent } from '../../../lambdas/domain/job-events';
import {
  executionRunId,
  FACET_SCHEMAS,
  type LineageNaming,
  lineageEventOf,
  OPENLINEAGE_SCHEMA_URL,
  type RunEvent,
  tableRunId,
} from '../../../lambdas/domain/lineage';
import { FACET_SCHEMA_IDS, lineageProblems, RUN_EVENT_SCHEMA_ID } from '../../support/openlineage';

const naming: LineageNaming = {
  namespace: 'tally',
  producer: 'urn:tally',
  sourceNamespace: 'postgres://db.internal:5432',
  sourceDatabase: 'shop',
  targetNamespace: 'snowflake://acme-eu1',
};

const job = {
  jobId: '01JOBAAAAAAAAAAAAAAAAAAAAA',
  executionId: 'arn:aws:states:eu-west-1:123456789012:execution:tally:incremental-1',
  pipeline: 'incremental' as const,
  startedAt: '2026-03-01T10:00:00.000Z',
};
const table = {
  sourceTable: 'public.orders',
  targetTable: 'ANALYTICS.PUBLIC.ORDERS',
  window: { from: '2026-03-01T09:25:00.000Z', to: '2026-03-01T09:59:00.123456+00:00' },
};

function sealed(input: AuditEventInput): AuditEvent {
  return sealEvent(input, null, new Date('2026-03-01T10:01:00.000Z'));
}

const counted = {
  recordCountBefore: 42,
  rowsExported: 42,
  files: 2,
  bytes: 9000,
  rowsParsed: 42,
  rowsLoaded: 42,
};

function assertionsOf(event: RunEvent): unknown[] {
  const facet = event.inputs[0]?.inputFacets?.dataQualityAssertions as { assertions: unknown[] } | undefined;
  return facet?.assertions ?? [];
}

function runEvent(input: AuditEventInput): RunEvent {
  const event = lineageEventOf(sealed(input), naming);
  if (event === null) throw new Error('no lineage event');
  return event;
}

describe('lineage events of a table job', () => {
  it('start the run with the source as input and the target as output, each named as OpenLineage names them', () => {
    const start = runEvent(jobEvent(job, 'start', table));
    expect(lineageProblems(start)).toEqual([]);
    expect(start.eventType).toBe('START');
    expect(start.job).toMatchObject({ namespace: 'tally', name: 'incremental.public.orders' });
    expect(start.inputs).toEqual([{ namespace: 'postgres://db.internal:5432', name: 'shop.public.orders' }]);
    expect(start.outputs).toEqual([{ namespace: 'snowflake://acme-eu1', name: 'ANALYTICS.PUBLIC.ORDERS' }]);
    expect(start.run.facets.parent).toMatchObject({
      run: { runId: executionRunId(job.executionId) },
      job: { namespace: 'tally', name: 'incremental' },
    });
    expect(start.run.facets.nominalTime).toMatchObject({
      nominalStartTime: '2026-03-01T09:25:00.000Z',
      nominalEndTime: '2026-03-01T09:59:00.123456Z',
    });
  });

  it('give every event of one table job the same run id, and other tables and jobs other ids', () => {
    const start = runEvent(jobEvent(job, 'start', table));
    const end = runEvent({ ...jobEvent(job, 'success', table), ...counted, recordCountAfter: 42 });
    expect(end.run.runId).toBe(start.run.runId);
    expect(start.run.runId).toBe(tableRunId(job.jobId, 'public.orders'));
    expect(tableRunId(job.jobId, 'public.customers')).not.toBe(start.run.runId);
    expect(tableRunId('01JOBBBBBBBBBBBBBBBBBBBBBB', 'public.orders')).not.toBe(start.run.runId);
    expect(start.run.runId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('complete with the output statistics and every stage of the count ledger asserted as passing', () => {
    const end = runEvent({ ...jobEvent(job, 'success', table), ...counted, recordCountAfter: 42 });
    expect(lineageProblems(end)).toEqual([]);
    expect(end.eventType).toBe('COMPLETE');
    expect(end.outputs[0]?.outputFacets?.outputStatistics).toMatchObject({
      rowCount: 42,
      size: 9000,
      fileCount: 2,
    });
    const assertions = assertionsOf(end);
    expect(assertions).toEqual(
      ['exported', 'parsed', 'loaded', 'target'].map((stage) =>
        expect.objectContaining({
          name: `${stage}_equals_source`,
          success: true,
          expected: '42',
          actual: '42',
        }),
      ),
    );
    expect(end.run.facets.errorMessage).toBeUndefined();
  });

  it('fail with the error message and the ledger stage that did not close asserted as failing', () => {
    const fail = runEvent({
      ...jobEvent(job, 'failure', table),
      ...counted,
      recordCountAfter: 41,
      errorType: 'CountMismatchError',
      errorMessage:
        "public.orders: counts do not close at stage 'target' (expected 42, got 41) [step ms: CountSource=12 WriteAudit=3]",
    });
    expect(lineageProblems(fail)).toEqual([]);
    expect(fail.eventType).toBe('FAIL');
    expect(fail.run.facets.errorMessage).toMatchObject({
      message:
        "CountMismatchError: public.orders: counts do not close at stage 'target' (expected 42, got 41)",
      programmingLanguage: 'JavaScript',
    });
    const assertions = assertionsOf(fail);
    expect(assertions).toContainEqual(
      expect.objectContaining({ name: 'target_equals_source', success: false, actual: '41' }),
    );
    expect(assertions).toContainEqual(
      expect.objectContaining({ name: 'loaded_equals_source', success: true }),
    );
  });

  it('fail without facets for what the job never measured', () => {
    const fail = runEvent({
      ...jobEvent(job, 'failure', table),
      errorType: 'SourceUnavailableError',
      errorMessage: 'down',
    });
    expect(lineageProblems(fail)).toEqual([]);
    expect(fail.inputs[0]?.inputFacets).toBeUndefined();
    expect(fail.outputs[0]?.outputFacets).toBeUndefined();
  });

  it('abort a skipped table, and have none for retries and alerts', () => {
    expect(runEvent({ ...jobEvent(job, 'skipped', table), status: 'SKIPPED' }).eventType).toBe('ABORT');
    expect(lineageEventOf(sealed(jobEvent(job, 'retry', table)), naming)).toBeNull();
    expect(lineageEventOf(sealed(jobEvent(job, 'alert', table)), naming)).toBeNull();
    expect(lineageEventOf(sealed(jobEvent(job, 'start')), naming)).toBeNull();
  });

  it("take the job's start as the nominal time of a whole-table load or an integer window", () => {
    const whole = runEvent(
      jobEvent({ ...job, pipeline: 'historical' }, 'start', { ...table, window: { from: null, to: null } }),
    );
    expect(whole.run.facets.nominalTime).toEqual(
      expect.objectContaining({ nominalStartTime: job.startedAt }),
    );
    const ints = runEvent(jobEvent(job, 'start', { ...table, window: { from: '100', to: '200' } }));
    expect(ints.run.facets.nominalTime).toEqual(expect.objectContaining({ nominalStartTime: job.startedAt }));
    expect(lineageProblems(whole)).toEqual([]);
    expect(lineageProblems(ints)).toEqual([]);
  });

  it('name the schemas of the specification files they follow', () => {
    expect(OPENLINEAGE_SCHEMA_URL.split('#')[0]).toBe(RUN_EVENT_SCHEMA_ID);
    for (const url of Object.values(FACET_SCHEMAS)) expect(FACET_SCHEMA_IDS).toContain(url.split('#')[0]);
  });

  it('are checked by a validator that finds what the schemas refuse', () => {
    const start = runEvent(jobEvent(job, 'start', table));
    expect(lineageProblems({ ...start, run: { ...start.run, runId: 'not-a-uuid' } })).not.toEqual([]);
    expect(lineageProblems({ ...start, eventType: 'DONE' })).not.toEqual([]);
    const badFacet = {
      ...start,
      run: { ...start.run, facets: { ...start.run.facets, nominalTime: { _producer: 'urn:tally' } } },
    };
    expect(lineageProblems(badFacet).join('\n')).toMatch(/run\.facets/);
    const unknown = { ...start, run: { ...start.run, facets: { ...start.run.facets, mine: {} } } };
    expect(lineageProblems(unknown).join('\n')).toMatch(/mine: no facet schema/);
  });
});
