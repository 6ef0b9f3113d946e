// A step's lineage, built from the settings in force: the transport and the names the events carry. An
// API key named by `apiKeySecret` is read from Secrets Manager when the first event is sent, and kept.
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { type ApiKeySource, openLineageTransport } from '../adapters/openlineage';
import type { Lineage } from '../ports';
import type { LineageSettings } from '../runtime/lineage-settings';
import { createSecretsClient } from '../runtime/secrets';

export function createLineage(
  settings: LineageSettings | null,
  secrets: () => Pick<SecretsManagerClient, 'send'> = createSecretsClient,
): Lineage | undefined {
  if (settings === null) return undefined;
  const { transport } = settings;
  const secretId = transport.type === 'http' ? transport.apiKeySecret : undefined;
  return {
    transport: openLineageTransport(transport, secretId ? secretKey(secretId, secrets) : undefined),
    namespace: settings.namespace,
    producer: settings.producer,
    pendingLimit: settings.pendingLimit,
  };
}

/** The secret's value, or its JSON's `apiKey`; read once, and again after a failed read. */
function secretKey(secretId: string, client: () => Pick<SecretsManagerClient, 'send'>): ApiKeySource {
  let read: Promise<string> | undefined;
  return () => {
    read ??= client()
      .send(new GetSecretValueCommand({ SecretId: secretId }))
      .then((answer) => keyOf(answer.SecretString, secretId));
    read.catch(() => {
      read = undefined;
    });
    return read;
  };
}

function keyOf(value: string | undefined, secretId: string): string {
  if (value === undefined || value === '') throw new Error(`the secret ${secretId} holds no string`);
  try {
    const parsed = JSON.parse(value) as { apiKey?: unknown };
    if (typeof parsed === 'object' && parsed !== null) {
      if (typeof parsed.apiKey === 'string' && parsed.apiKey !== '') return parsed.apiKey;
      throw new Error(`the secret ${secretId} is JSON without a string apiKey`);
    }
  } catch (err) {
    if (!(err instanceof SyntaxError)) throw err;
  }
  return value;
}
