// The pages of Snowflake's documentation the conformance cases follow, one constant each, named in every case.

export const ALTER_ACCOUNT = 'https://docs.snowflake.com/en/sql-reference/sql/alter-account';
export const ALTER_TABLE = 'https://docs.snowflake.com/en/sql-reference/sql/alter-table';
export const ALTER_SESSION = 'https://docs.snowflake.com/en/sql-reference/sql/alter-session';
export const ALTER_WAREHOUSE = 'https://docs.snowflake.com/en/sql-reference/sql/alter-warehouse';
export const CANCEL = 'https://docs.snowflake.com/en/user-guide/querying-cancel-statements';
export const COPY = 'https://docs.snowflake.com/en/sql-reference/sql/copy-into-table';
export const CREATE_RESOURCE_MONITOR =
  'https://docs.snowflake.com/en/sql-reference/sql/create-resource-monitor';
export const CREATE_SCHEMA = 'https://docs.snowflake.com/en/sql-reference/sql/create-schema';
export const CREATE_TABLE = 'https://docs.snowflake.com/en/sql-reference/sql/create-table';
export const CREATE_WAREHOUSE = 'https://docs.snowflake.com/en/sql-reference/sql/create-warehouse';
export const FROM = 'https://docs.snowflake.com/en/sql-reference/constructs/from';
export const DELETE = 'https://docs.snowflake.com/en/sql-reference/sql/delete';
export const UPDATE = 'https://docs.snowflake.com/en/sql-reference/sql/update';
export const DATETIME = 'https://docs.snowflake.com/en/sql-reference/data-types-datetime';
export const DATETIME_FORMATS = 'https://docs.snowflake.com/en/sql-reference/date-time-input-output';
export const DROP_RESOURCE_MONITOR = 'https://docs.snowflake.com/en/sql-reference/sql/drop-resource-monitor';
export const FILE_FORMAT = 'https://docs.snowflake.com/en/sql-reference/sql/create-file-format';
export const GRANT_OWNERSHIP = 'https://docs.snowflake.com/en/sql-reference/sql/grant-ownership';
export const IDENTIFIERS = 'https://docs.snowflake.com/en/sql-reference/identifiers-syntax';
export const LOGICAL = 'https://docs.snowflake.com/en/sql-reference/data-types-logical';
export const MERGE = 'https://docs.snowflake.com/en/sql-reference/sql/merge';
export const NUMERIC = 'https://docs.snowflake.com/en/sql-reference/data-types-numeric';
export const OVERVIEW = 'https://docs.snowflake.com/en/user-guide/security-access-control-overview';
export const PARAMETERS = 'https://docs.snowflake.com/en/sql-reference/parameters';
export const PARSE_JSON = 'https://docs.snowflake.com/en/sql-reference/functions/parse_json';
export const PRIVILEGES = 'https://docs.snowflake.com/en/user-guide/security-access-control-privileges';
export const QUALIFY = 'https://docs.snowflake.com/en/sql-reference/constructs/qualify';
export const ROW_NUMBER = 'https://docs.snowflake.com/en/sql-reference/functions/row_number';
export const SHOW_FILE_FORMATS = 'https://docs.snowflake.com/en/sql-reference/sql/show-file-formats';
export const SHOW_RESOURCE_MONITORS =
  'https://docs.snowflake.com/en/sql-reference/sql/show-resource-monitors';
export const SHOW_STAGES = 'https://docs.snowflake.com/en/sql-reference/sql/show-stages';
export const SHOW_WAREHOUSES = 'https://docs.snowflake.com/en/sql-reference/sql/show-warehouses';
export const RESERVED = 'https://docs.snowflake.com/en/sql-reference/reserved-keywords';
export const TEXT = 'https://docs.snowflake.com/en/sql-reference/data-types-text';
export const TRANSACTIONS = 'https://docs.snowflake.com/en/sql-reference/transactions';
export const UNLOAD = 'https://docs.snowflake.com/en/user-guide/data-unload-considerations';
export const MD5 = 'https://docs.snowflake.com/en/sql-reference/functions/md5';
export const TO_DECIMAL = 'https://docs.snowflake.com/en/sql-reference/functions/to_decimal';
export const FORMAT_MODELS = 'https://docs.snowflake.com/en/sql-reference/sql-format-models';
export const TO_CHAR = 'https://docs.snowflake.com/en/sql-reference/functions/to_char';
export const DATEDIFF = 'https://docs.snowflake.com/en/sql-reference/functions/datediff';
export const DATE_PART = 'https://docs.snowflake.com/en/sql-reference/functions/date_part';
export const TO_JSON = 'https://docs.snowflake.com/en/sql-reference/functions/to_json';
export const DATA_LOAD_PREPARE = 'https://docs.snowflake.com/en/user-guide/data-load-prepare';
