// The state machine definition exactly as the stack deploys it, as plain ASL for a given configuration:
// synthesized in memory without bundling, its CloudFormation references replaced by placeholder ARNs
// that keep each function's and the topic's identity. The local runner executes this definition.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, type CfnElement, Stack } from 'aws-cdk-lib';
import type { TallyConfig } from '../lambdas/config';
import { STEP_NAMES, STEPS, type StepName } from '../lambdas/steps/registry';
import { TallyStack } from './tally-stack';

/** Placeholder account and region of the ARNs in a definition synthesized for local use. */
export const LOCAL_ACCOUNT = '000000000000';
export const LOCAL_REGION = 'local';

/** The placeholder ARN of a step's function in a definition synthesized for local use. */
export function localFunctionArn(step: StepName): string {
  return `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:${STEPS[step].functionName}`;
}

export interface AslDefinition {
  readonly StartAt: string;
  readonly States: Record<string, unknown>;
  readonly [key: string]: unknown;
}

export function synthesizeDefinition(config: TallyConfig): AslDefinition {
  const outdir = mkdtempSync(join(tmpdir(), 'tally-definition-'));
  try {
    // An empty bundling-stacks list skips asset bundling: only the template is wanted here.
    const app = new App({ outdir, context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new TallyStack(app, 'Tally', { config });
    const template = app.synth().getStackArtifact(stack.artifactId).template as {
      Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }>;
    };
    const machines = Object.values(template.Resources).filter(
      (r) => r.Type === 'AWS::StepFunctions::StateMachine',
    );
    const definitionString = machines[0]?.Properties?.DefinitionString;
    if (machines.length !== 1 || definitionString === undefined) {
      throw new Error(`expected one state machine in the synthesized stack, found ${machines.length}`);
    }
    return JSON.parse(resolveString(definitionString, placeholders(stack))) as AslDefinition;
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

/** Logical id -> placeholder ARN, for every resource the definition may reference. */
function placeholders(stack: TallyStack): Map<string, string> {
  const ids = new Map<string, string>();
  const logicalId = (element: unknown) => Stack.of(stack).getLogicalId(element as CfnElement);
  const { functions, alertTopic } = stack.pipeline;
  for (const step of STEP_NAMES) {
    ids.set(logicalId(functions[step].function.node.defaultChild), localFunctionArn(step));
  }
  ids.set(
    logicalId(alertTopic.node.defaultChild),
    `arn:aws:sns:${LOCAL_REGION}:${LOCAL_ACCOUNT}:TallyAlerts`,
  );
  return ids;
}

const PSEUDO_PARAMETERS: Record<string, string> = {
  'AWS::Partition': 'aws',
  'AWS::Region': LOCAL_REGION,
  'AWS::AccountId': LOCAL_ACCOUNT,
  'AWS::URLSuffix': 'amazonaws.com',
};

/**
 * Renders a CloudFormation value as text: Fn::Join joined, Ref and Fn::GetAtt handed to `reference`,
 * anything else to `other`.
 */
export function renderIntrinsics(
  value: unknown,
  reference: (logicalId: string, attribute?: string) => string,
  other: (value: unknown) => string,
): string {
  if (typeof value === 'string') return value;
  const node = value as Record<string, unknown>;
  if ('Fn::Join' in node) {
    const [separator, parts] = node['Fn::Join'] as [string, unknown[]];
    return parts.map((p) => renderIntrinsics(p, reference, other)).join(separator);
  }
  if ('Ref' in node) return reference(String(node.Ref));
  if ('Fn::GetAtt' in node) {
    const [id, attribute] = node['Fn::GetAtt'] as [string, string];
    return reference(id, attribute);
  }
  return other(value);
}

/** Resolves a DefinitionString: pseudo parameters and the placeholder ARNs of `ids` stand in for references. */
function resolveString(value: unknown, ids: Map<string, string>): string {
  const unresolvable = (what: unknown): never => {
    throw new Error(
      `the state machine definition references something with no local stand-in: ${JSON.stringify(what)}`,
    );
  };
  return renderIntrinsics(
    value,
    (id, attribute) =>
      (attribute === undefined
        ? (PSEUDO_PARAMETERS[id] ?? ids.get(id))
        : attribute === 'Arn'
          ? ids.get(id)
          : undefined) ??
      unresolvable(attribute === undefined ? { Ref: id } : { 'Fn::GetAtt': [id, attribute] }),
    unresolvable,
  );
}
