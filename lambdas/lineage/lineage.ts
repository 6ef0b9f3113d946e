// A step's lineage, built from the settings in force: the transport and the names the events carry.
import { openLineageTransport } from '../adapters/openlineage';
import type { Lineage } from '../ports';
import type { LineageSettings } from '../runtime/lineage-settings';

export function createLineage(settings: LineageSettings | null): Lineage | undefined {
  if (settings === null) return undefined;
  return {
    transport: openLineageTransport(settings.transport),
    namespace: settings.namespace,
    producer: settings.producer,
    pendingLimit: settings.pendingLimit,
  };
}
