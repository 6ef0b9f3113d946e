// The rules that alert on an execution's own ending, from outside the definition: their event patterns,
// the message they publish, and the key policy that lets EventBridge publish to the encrypted topic.
import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import type { TallyStack } from '../../lib/tally-stack';
import { FAILED_ALERTED } from '../../lib/transfer-definition';
import { logicalIdOf, render, resourcesOf, tallyStack } from '../support/cdk';

let stack: TallyStack;
let template: Template;

beforeAll(() => {
  ({ stack, template } = tallyStack());
});

function statusRules() {
  return Object.values(resourcesOf(template, 'AWS::Events::Rule')).filter(
    (r) => (r.Properties?.EventPattern as { source?: string[] } | undefined)?.source?.[0] === 'aws.states',
  );
}

describe('alerts on how an execution ended', () => {
  it('match this state machine timed out or aborted, and failed with any error but the alerted one', () => {
    const machine = `<${logicalIdOf(stack, stack.pipeline.stateMachine)}>`;
    const patterns = statusRules().map((r) => r.Properties?.EventPattern as Record<string, unknown>);
    expect(patterns).toHaveLength(2);
    for (const p of patterns) {
      expect(p['detail-type']).toEqual(['Step Functions Execution Status Change']);
      expect((p.detail as { stateMachineArn: unknown[] }).stateMachineArn.map(render)).toEqual([machine]);
    }
    const details = patterns.map((p) => p.detail as Record<string, unknown>);
    expect(details.map((d) => d.status)).toEqual(
      expect.arrayContaining([['TIMED_OUT', 'ABORTED'], ['FAILED']]),
    );
    const failed = details.find((d) => (d.status as string[])[0] === 'FAILED');
    expect(failed?.error).toEqual([{ 'anything-but': [FAILED_ALERTED] }, { exists: false }]);
  });

  it('publish to the alert topic a message with the execution, its status, its error and a console link', () => {
    const topic = `<${logicalIdOf(stack, stack.pipeline.alertTopic)}>`;
    for (const rule of statusRules()) {
      const targets = rule.Properties?.Targets as {
        Arn: unknown;
        InputTransformer: Record<string, unknown>;
      }[];
      expect(targets).toHaveLength(1);
      expect(render(targets[0]?.Arn)).toBe(topic);
      const { InputPathsMap, InputTemplate } = targets[0]?.InputTransformer ?? {};
      expect(InputPathsMap).toMatchObject({
        'detail-name': '$.detail.name',
        'detail-status': '$.detail.status',
        'detail-error': '$.detail.error',
        'detail-executionArn': '$.detail.executionArn',
        region: '$.region',
      });
      const text = render(InputTemplate);
      expect(text).toContain('ended <detail-status> (<detail-error>), and no alert was published');
      expect(text).toContain('Execution: <detail-executionArn>');
      expect(text).toContain('Console: https://<region>.');
      // The console's host in the stack's partition: the commercial one, China's, or GovCloud's.
      expect(text).toContain('"Fn::FindInMap":[');
      expect(Object.values(template.toJSON().Mappings ?? {})).toContainEqual({
        aws: { host: 'console.aws.amazon.com' },
        'aws-cn': { host: 'console.amazonaws.cn' },
        'aws-us-gov': { host: 'console.amazonaws-us-gov.com' },
      });
      expect(text).toContain('/states/home?region=<region>#/v2/executions/details/<detail-executionArn>');
    }
  });

  it('let EventBridge use the topic key, and the topic let it publish', () => {
    const key = Object.values(resourcesOf(template, 'AWS::KMS::Key'))[0];
    const statements =
      (key?.Properties?.KeyPolicy as { Statement: Record<string, unknown>[] } | undefined)?.Statement ?? [];
    const events = statements.find((s) => s.Sid === 'EventBridgePublishesAlerts');
    expect(events).toMatchObject({
      Effect: 'Allow',
      Principal: { Service: 'events.amazonaws.com' },
      Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
    });
    const policies = Object.values(resourcesOf(template, 'AWS::SNS::TopicPolicy'));
    const publishers = policies.flatMap(
      (p) =>
        (p.Properties?.PolicyDocument as { Statement: Record<string, unknown>[] } | undefined)?.Statement ??
        [],
    );
    expect(publishers).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Action: 'sns:Publish', Principal: { Service: 'events.amazonaws.com' } }),
      ]),
    );
  });
});
