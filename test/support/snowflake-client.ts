// Small promise wrappers around the unmodified snowflake-sdk, shared by the Snowflake integration tests.
import snowflake from 'snowflake-sdk';

snowflake.configure({ logLevel: 'OFF' });

export type Connection = snowflake.Connection;
export type ConnectionOptions = snowflake.ConnectionOptions;

export async function connect(options: ConnectionOptions): Promise<Connection> {
  const connection = snowflake.createConnection(options);
  return new Promise((resolve, reject) => {
    connection.connect((err, conn) => (err ? reject(err) : resolve(conn)));
  });
}

export interface Executed {
  readonly rows: Record<string, unknown>[];
  readonly queryId: string;
  readonly updated: number | undefined;
}

export function exec(
  connection: Connection,
  sqlText: string,
  binds?: snowflake.Binds,
  extra: Partial<snowflake.StatementOption> = {},
): Promise<Executed> {
  return new Promise((resolve, reject) => {
    connection.execute({
      ...extra,
      sqlText,
      ...(binds ? { binds } : {}),
      complete: (err, stmt, rows) =>
        err
          ? reject(err)
          : resolve({
              rows: (rows ?? []) as Record<string, unknown>[],
              queryId: stmt.getQueryId(),
              // An asynchronous statement has no result yet to count.
              updated: extra.asyncExec ? undefined : stmt.getNumUpdatedRows(),
            }),
    });
  });
}

/** The error a statement fails with (and a failure of the test if it succeeds). */
export async function execError(
  connection: Connection,
  sqlText: string,
  binds?: snowflake.Binds,
): Promise<snowflake.SnowflakeError> {
  try {
    await exec(connection, sqlText, binds);
  } catch (err) {
    return err as snowflake.SnowflakeError;
  }
  throw new Error(`expected '${sqlText}' to fail`);
}

export async function connectError(options: ConnectionOptions): Promise<snowflake.SnowflakeError> {
  try {
    await destroy(await connect(options));
  } catch (err) {
    return err as snowflake.SnowflakeError;
  }
  throw new Error('expected the login to fail');
}

export function destroy(connection: Connection): Promise<void> {
  return new Promise((resolve, reject) => connection.destroy((err) => (err ? reject(err) : resolve())));
}
