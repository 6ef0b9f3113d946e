// The named errors Step Functions routes. Retry and Catch match on `name`, case-sensitively, and know
// nothing of subclasses, so every name is listed once here and imported by throwers and by the construct.
// Lambda's own names for an invocation it ended (a timeout or out-of-memory end) are not Tally's and are
// listed apart: no Retry takes them, the Catch does (the local runner raises one as `LambdaTimeoutError`).

/** Every error Tally throws on purpose, with whether a retry can help. */
export const ERROR_CATALOG = [
  { name: 'SourceUnavailableError', kind: 'transient' },
  { name: 'StageUnavailableError', kind: 'transient' },
  { name: 'WarehouseUnavailableError', kind: 'transient' },
  { name: 'WarehouseThrottledError', kind: 'transient' },
  { name: 'TableBusyError', kind: 'transient' },
  { name: 'SecretUnavailableError', kind: 'transient' },
  { name: 'InvalidInputError', kind: 'terminal' },
  { name: 'InvalidConfigError', kind: 'terminal' },
  { name: 'SourceSchemaError', kind: 'terminal' },
  { name: 'SourceAuthError', kind: 'terminal' },
  { name: 'SourceTlsError', kind: 'terminal' },
  { name: 'WarehouseAuthError', kind: 'terminal' },
  { name: 'SecretAccessError', kind: 'terminal' },
  { name: 'WarehouseObjectMissingError', kind: 'terminal' },
  { name: 'WarehouseSyntaxError', kind: 'terminal' },
  { name: 'WarehousePermissionError', kind: 'terminal' },
  { name: 'WarehouseConversionError', kind: 'terminal' },
  { name: 'WarehouseError', kind: 'terminal' },
  { name: 'LoadIncompleteError', kind: 'terminal' },
  { name: 'DuplicateKeyError', kind: 'terminal' },
  { name: 'UnrepresentableValueError', kind: 'terminal' },
  { name: 'SchemaDriftError', kind: 'terminal' },
  { name: 'NoWatermarkError', kind: 'terminal' },
  { name: 'CountMismatchError', kind: 'terminal' },
  { name: 'ValueMismatchError', kind: 'terminal' },
  { name: 'DeleteCheckError', kind: 'terminal' },
  { name: 'VolumeAnomalyError', kind: 'terminal' },
  { name: 'PlanRecordError', kind: 'terminal' },
] as const;

/**
 * How an invocation Lambda ended reaches Step Functions: AWS documents `Lambda.Unknown` for a timeout or
 * an out-of-memory end (Step Functions Developer Guide, "Handle Lambda service exceptions"), and the
 * runtime reports `Sandbox.Timedout` and `Runtime.OutOfMemory` for them today. One class: never retried
 * (the same input would end the same way, up to 15 minutes each time), always caught and audited.
 */
export const LAMBDA_END_ERROR_NAMES = ['Lambda.Unknown', 'Sandbox.Timedout', 'Runtime.OutOfMemory'] as const;

export type ErrorName = (typeof ERROR_CATALOG)[number]['name'];
export type ErrorKind = (typeof ERROR_CATALOG)[number]['kind'];

type NamesOf<K extends ErrorKind> = Extract<(typeof ERROR_CATALOG)[number], { kind: K }>['name'];

/** Names a Retry should list: waiting and trying again can help. */
export const TRANSIENT_ERROR_NAMES = ERROR_CATALOG.filter((e) => e.kind === 'transient').map(
  (e) => e.name,
) as NamesOf<'transient'>[];

/** Names that fail the table at once: a retry would only repeat the failure. */
export const TERMINAL_ERROR_NAMES = ERROR_CATALOG.filter((e) => e.kind === 'terminal').map(
  (e) => e.name,
) as NamesOf<'terminal'>[];

export function errorKind(name: string): ErrorKind | undefined {
  return ERROR_CATALOG.find((e) => e.name === name)?.kind;
}

/** Base of every named error. `name` is a literal so bundling with keepNames keeps it routable. */
export abstract class TallyError extends Error {
  abstract override readonly name: ErrorName;
  get kind(): ErrorKind {
    return errorKind(this.name) ?? 'terminal';
  }
  get transient(): boolean {
    return this.kind === 'transient';
  }
}

export class SourceUnavailableError extends TallyError {
  override readonly name = 'SourceUnavailableError' as const;
}
export class StageUnavailableError extends TallyError {
  override readonly name = 'StageUnavailableError' as const;
}
export class WarehouseUnavailableError extends TallyError {
  override readonly name = 'WarehouseUnavailableError' as const;
}
export class WarehouseThrottledError extends TallyError {
  override readonly name = 'WarehouseThrottledError' as const;
}
/** Another execution holds the table; this one waits (retries) and says so in the audit log. */
export class TableBusyError extends TallyError {
  override readonly name = 'TableBusyError' as const;
}
/** Secrets Manager could not be reached, throttled the read, or failed; a wait can help. */
export class SecretUnavailableError extends TallyError {
  override readonly name = 'SecretUnavailableError' as const;
}
/** Secrets Manager refused a secret: denied, missing, deleted, or not decryptable with its key. */
export class SecretAccessError extends TallyError {
  override readonly name = 'SecretAccessError' as const;
}
export class InvalidInputError extends TallyError {
  override readonly name = 'InvalidInputError' as const;
}
export class InvalidConfigError extends TallyError {
  override readonly name = 'InvalidConfigError' as const;
}
/** The configured table, column or type does not exist or cannot be transferred. */
export class SourceSchemaError extends TallyError {
  override readonly name = 'SourceSchemaError' as const;
}
export class SourceAuthError extends TallyError {
  override readonly name = 'SourceAuthError' as const;
}
/** PostgreSQL's TLS failed: a certificate that does not verify, or a server without TLS. Settings fix it. */
export class SourceTlsError extends TallyError {
  override readonly name = 'SourceTlsError' as const;
}
export class WarehouseAuthError extends TallyError {
  override readonly name = 'WarehouseAuthError' as const;
}
export class WarehouseObjectMissingError extends TallyError {
  override readonly name = 'WarehouseObjectMissingError' as const;
}
export class WarehouseSyntaxError extends TallyError {
  override readonly name = 'WarehouseSyntaxError' as const;
}
export class WarehousePermissionError extends TallyError {
  override readonly name = 'WarehousePermissionError' as const;
}
export class WarehouseConversionError extends TallyError {
  override readonly name = 'WarehouseConversionError' as const;
}
/** A warehouse failure that fits no narrower name; terminal, since retrying an unknown error hides it. */
export class WarehouseError extends TallyError {
  override readonly name = 'WarehouseError' as const;
}
/** A COPY or MERGE did not load every row it parsed, or a file was not loaded. */
export class LoadIncompleteError extends TallyError {
  override readonly name = 'LoadIncompleteError' as const;
}
/** Staged rows that hold one primary key more than once: a MERGE would insert it twice. */
export class DuplicateKeyError extends TallyError {
  override readonly name = 'DuplicateKeyError' as const;
}
/** Source values Snowflake cannot hold in the mapped column type (an infinite date, NaN in a NUMBER...). */
export class UnrepresentableValueError extends TallyError {
  override readonly name = 'UnrepresentableValueError' as const;
}
/** The existing target's columns no longer match what the source's columns map to. */
export class SchemaDriftError extends TallyError {
  override readonly name = 'SchemaDriftError' as const;
}
/** An incremental run of a table with no verified window yet: its historical load comes first. */
export class NoWatermarkError extends TallyError {
  override readonly name = 'NoWatermarkError' as const;
}
export class CountMismatchError extends TallyError {
  override readonly name = 'CountMismatchError' as const;
}
/** The target's values differ from the source's for keys value reconciliation named. */
export class ValueMismatchError extends TallyError {
  override readonly name = 'ValueMismatchError' as const;
}
/** The delete check could not handle the keys it found as the table's mode says (the target changed fewer). */
export class DeleteCheckError extends TallyError {
  override readonly name = 'DeleteCheckError' as const;
}
/** An incremental window far below its table's recent volume, with the volume guard in 'alert' mode. */
export class VolumeAnomalyError extends TallyError {
  override readonly name = 'VolumeAnomalyError' as const;
}

/** The name Step Functions would see for any thrown value. */
export function errorName(err: unknown): string {
  return err instanceof Error ? err.name : 'Error';
}
/** What Plan kept for a table beside the state (its resolved columns) is missing or was changed. */
export class PlanRecordError extends TallyError {
  override readonly name = 'PlanRecordError' as const;
}
