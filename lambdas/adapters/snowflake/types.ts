// The Snowflake column type of each target type (`domain/type-mapping.ts` chooses it per source column).
import type { TargetType } from '../../domain/type-mapping';

export function snowflakeType(type: TargetType): string {
  switch (type.kind) {
    case 'number':
      return `NUMBER(${type.precision},${type.scale})`;
    case 'float':
      return 'FLOAT';
    case 'boolean':
      return 'BOOLEAN';
    case 'date':
      return 'DATE';
    case 'time':
      return 'TIME(6)';
    case 'timestamp_ntz':
      return 'TIMESTAMP_NTZ(6)';
    case 'timestamp_tz':
      return 'TIMESTAMP_TZ(6)';
    case 'variant':
      return 'VARIANT';
    case 'array':
      return 'ARRAY';
    case 'varchar':
      return `VARCHAR(${type.length})`;
  }
}
