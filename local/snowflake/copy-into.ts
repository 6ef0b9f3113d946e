// COPY INTO <table> FROM @stage: files read from the S3 stand-in, converted as Snowflake would.
import type { Ctx } from './context';
import { unsupported } from './ddl';
import type { QueryResult } from './engine-types';
import type { Token } from './sql-tokens';

export async function copyInto(_ctx: Ctx, _tokens: readonly Token[]): Promise<QueryResult> {
  throw unsupported('COPY INTO');
}
