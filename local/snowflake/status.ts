// The one-column status result Snowflake answers DDL, session, transaction and user statements with
// (a "status" text column holding one message).
import type { QueryResult } from './engine-types';
import { textColumn } from './sf-types';

export function statusResult(message: string, statementTypeId: number): QueryResult {
  return { columns: [textColumn('status')], rows: [[message]], statementTypeId };
}

/** What Snowflake answers a statement that has nothing else to say. */
export function statementExecuted(statementTypeId: number): QueryResult {
  return statusResult('Statement executed successfully.', statementTypeId);
}
