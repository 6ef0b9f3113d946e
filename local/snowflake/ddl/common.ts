// What the DDL families share: their one-line status answers, and what CREATE does with a name that is
// already taken (Snowflake's CREATE ... OR REPLACE and IF NOT EXISTS).
import type { QueryResult } from '../engine-types';
import { STATEMENT_TYPE } from '../engine-types';
import { alreadyExists } from '../errors';
import { statusResult } from '../status';

export function ddlDone(message: string): QueryResult {
  return statusResult(message, STATEMENT_TYPE.DDL);
}

/** The words around the object kind: CREATE [OR REPLACE] [TEMPORARY] <kind> [IF NOT EXISTS]. */
export interface CreateModifiers {
  readonly orReplace: boolean;
  readonly temporary: boolean;
  readonly ifNotExists: boolean;
}

/**
 * CREATE of a name that may be taken. If it is, IF NOT EXISTS answers so and changes nothing (that answer
 * is returned), OR REPLACE removes the old object (`replace`) and goes on, anything else is 002002.
 * Undefined when the CREATE goes on.
 */
export async function claimName(
  name: string,
  taken: boolean,
  { ifNotExists, orReplace }: CreateModifiers,
  replace?: () => Promise<unknown>,
): Promise<QueryResult | undefined> {
  if (!taken) return undefined;
  if (ifNotExists) return ddlDone(`${name} already exists, statement succeeded.`);
  if (!orReplace) throw alreadyExists(name);
  await replace?.();
  return undefined;
}

/** What a DROP found missing, for its error (or for IF EXISTS to forgive). */
export interface Missing {
  readonly name: readonly string[];
  readonly kind: string;
}

/** The outcome of a DROP: the name its answer gives for what it dropped, or what was missing. */
export type Dropped = string | Missing;
