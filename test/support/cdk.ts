// Builds Tally stacks for the infrastructure tests without bundling the functions (one test bundles).
import { App, type Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { parseConfig, type TallyConfig } from '../../lambdas/config';
import { renderIntrinsics } from '../../lib/synthesize-definition';
import { TallyStack, type TallyStackProps } from '../../lib/tally-stack';

export const TEST_CONFIG: TallyConfig = parseConfig({
  tables: [
    { name: 'customers', primaryKey: 'id', cursorColumn: 'updated_at' },
    { schema: 'sales', name: 'orders', primaryKey: ['id'], cursorColumn: 'updated_at' },
  ],
  postgres: { url: 'postgres://tally:do-not-deploy@10.0.1.20:5433/shop', ssl: true },
  s3: { bucket: 'configured-bucket', region: 'eu-west-1' },
  snowflake: {
    account: 'acme-eu1',
    username: 'TALLY',
    password: 'do-not-deploy-either',
    database: 'ANALYTICS',
    warehouse: 'LOAD_WH',
    storageIntegration: 'TALLY_S3',
  },
});

/** Context that skips asset bundling: the template is all these tests need. */
export const NO_BUNDLING = { 'aws:cdk:bundling-stacks': [] };

export function newApp(context: Record<string, unknown> = NO_BUNDLING): App {
  return new App({ context });
}

export function buildStack(props: Partial<TallyStackProps> = {}, app: App = newApp()): TallyStack {
  return new TallyStack(app, 'Tally', { config: TEST_CONFIG, ...props });
}

/** The stack and its template; synthesizes the app, so add validation plugins before, not after. */
export function tallyStack(props: Partial<TallyStackProps> = {}): { stack: TallyStack; template: Template } {
  const stack = buildStack(props);
  return { stack, template: Template.fromStack(stack) };
}

export type Resources = Record<string, { Type: string; Properties?: Record<string, unknown> }>;

export function resourcesOf(template: Template, type: string): Resources {
  return template.findResources(type) as Resources;
}

/**
 * Turns a CloudFormation value into text, rendering references as `<LogicalId>` / `<LogicalId.Attr>`,
 * so a test can read a policy or an environment variable as it will be deployed.
 */
export function render(value: unknown): string {
  return renderIntrinsics(
    value,
    (id, attribute) => `<${attribute === undefined ? id : `${id}.${attribute}`}>`,
    (other) => JSON.stringify(other),
  );
}

export function logicalIdOf(stack: Stack, construct: { node: { defaultChild?: unknown } }): string {
  return stack.getLogicalId(construct.node.defaultChild as never);
}
