// What the DDL families share: their one-line status answers, and what CREATE does with a name that is
// already taken (Snowflake's CREATE ... OR REPLACE and IF NOT EXISTS).
import type { QueryResult } from '../engine-types';
import { STATEMENT_TYPE } from '../engine-types';
import { alreadyExists } from '../errors';
import { statusResult } from '../status';

export function ddlDone(message: string): QueryResult {
  return statusResult(message, STATEMENT_TYPE.DDL);
}

/** The words between CREATE and the object kind. */
export interface CreateModifiers {
  readonly orReplace: boolean;
  readonly temporary: boolean;
}

/**
 * CREATE of a name already taken: IF NOT EXISTS succeeds and changes nothing (that answer is returned),
 * OR REPLACE goes on (undefined), anything else is 002002.
 */
export function nameTaken(name: string, ifNotExists: boolean, orReplace: boolean): QueryResult | undefined {
  if (ifNotExists) return ddlDone(`${name} already exists, statement succeeded.`);
  if (!orReplace) throw alreadyExists(name);
  return undefined;
}

/** What a DROP found missing, for its error (or for IF EXISTS to forgive). */
export interface Missing {
  readonly name: readonly string[];
  readonly kind: string;
}

/** The outcome of a DROP: the name its answer gives for what it dropped, or what was missing. */
export type Dropped = string | Missing;
