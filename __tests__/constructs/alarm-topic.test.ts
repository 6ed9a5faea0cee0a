/**
 * AlarmTopic: where the worker's alarms go. The stack's own topic, encrypted with a
 * customer managed key whose policy lets CloudWatch use it, with its subscriptions;
 * or an outside topic and nothing made. Literal props decide in TypeScript, Terraform
 * expressions make the choice Terraform's (count). The guards.
 */
import { DataAwsIamPolicyDocument } from "@cdktf/provider-aws/lib/data-aws-iam-policy-document";
import { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import { SnsTopic } from "@cdktf/provider-aws/lib/sns-topic";
import { SnsTopicSubscription } from "@cdktf/provider-aws/lib/sns-topic-subscription";
import { TerraformOutput, TerraformStack, TerraformVariable, Testing, VariableType } from "cdktf";
import { describe, expect, test } from "vitest";
import { AlarmTopic, type AlarmTopicProps } from "../../stacks/constructs/alarm-topic.js";
import type { SynthJson } from "../helpers/synth.js";
import { ACCOUNT, block, synth } from "./testing.js";

const OUTSIDE = "arn:aws:sns:us-east-2:123456789012:oncall";

/** GIVEN a stack; WHEN the topic is added with `props`; its ARN and actions as outputs. */
function whenTopic(props: Partial<AlarmTopicProps> | ((stack: TerraformStack) => Partial<AlarmTopicProps>) = {}) {
  const stack = new TerraformStack(Testing.app(), "test");
  const topic = new AlarmTopic(stack, "topic", {
    namePrefix: "demo",
    accountId: ACCOUNT,
    ...(typeof props === "function" ? props(stack) : props),
  });
  new TerraformOutput(stack, "arn", { value: topic.topicArn });
  new TerraformOutput(stack, "actions", { value: topic.actions });
  const { json } = synth(stack);
  return { topic, json: json as SynthJson & { check?: Record<string, { assert: { condition: unknown }[] }> } };
}

describe("the stack's own topic (no outside topic)", () => {
  test("is encrypted with its own rotated key, whose policy lets the account administer it and CloudWatch use it", () => {
    // WHEN
    const { json, topic } = whenTopic({ subscriptions: [{ protocol: "email", endpoint: "oncall@example.com" }] });
    // THEN
    expect(block(json, SnsTopic, "worker_alarms")).toMatchObject({
      name: "demo-worker-alarms",
      kms_master_key_id: "${aws_kms_key.worker_alarms.arn}",
    });
    expect(block(json, KmsKey, "worker_alarms")).toMatchObject({
      enable_key_rotation: true,
      policy: "${data.aws_iam_policy_document.worker_alarms_key.json}",
    });
    expect(block(json, DataAwsIamPolicyDocument, "worker_alarms_key").statement).toEqual([
      {
        sid: "AccountAdministersKey",
        principals: [{ type: "AWS", identifiers: [`arn:aws:iam::${ACCOUNT}:root`] }],
        actions: ["kms:*"],
        resources: ["*"],
      },
      {
        sid: "CloudWatchAlarmsPublish",
        principals: [{ type: "Service", identifiers: ["cloudwatch.amazonaws.com"] }],
        actions: ["kms:Decrypt", "kms:GenerateDataKey*"],
        resources: ["*"],
      },
    ]);
    expect(json.output.arn.value).toBe("${aws_sns_topic.worker_alarms.arn}");
    expect(json.output.actions.value).toEqual(["${aws_sns_topic.worker_alarms.arn}"]);
    expect(topic.topic?.friendlyUniqueId).toBe("worker_alarms");
  });

  test("subscribes each endpoint once, keyed by the endpoint; no warning when someone is subscribed", () => {
    // WHEN
    const { json } = whenTopic({
      subscriptions: [
        { protocol: "email", endpoint: "oncall@example.com" },
        { protocol: "https", endpoint: "https://events.example.com/sns" },
      ],
    });
    // THEN
    expect(block(json, SnsTopicSubscription, "worker_alarms")).toMatchObject({
      for_each: {
        "oncall@example.com": { protocol: "email", endpoint: "oncall@example.com" },
        "https://events.example.com/sns": { protocol: "https", endpoint: "https://events.example.com/sns" },
      },
      topic_arn: "${aws_sns_topic.worker_alarms.arn}",
      protocol: "${each.value.protocol}",
      endpoint: "${each.value.endpoint}",
    });
    expect(json.check).toBeUndefined();
  });

  test("without subscriptions: no subscription, and every plan warns that alarms reach nobody", () => {
    // WHEN
    const { json } = whenTopic();
    // THEN
    expect(json.resource.aws_sns_topic_subscription).toBeUndefined();
    expect(json.check?.worker_alarms_subscribed.assert).toEqual([
      {
        condition: false,
        error_message: expect.stringMatching(/^The worker's alarm topic demo-worker-alarms has no subscription: /),
      },
    ]);
  });

  test("partition and tags go into the key policy, the key and the topic", () => {
    // WHEN
    const { json } = whenTopic({ partition: "aws-us-gov", tags: { Component: "worker" } });
    // THEN
    const [account] = block(json, DataAwsIamPolicyDocument, "worker_alarms_key").statement as {
      principals: { identifiers: string[] }[];
    }[];
    expect(account.principals[0].identifiers).toEqual([`arn:aws-us-gov:iam::${ACCOUNT}:root`]);
    expect(block(json, KmsKey, "worker_alarms").tags).toEqual({ Component: "worker" });
    expect(block(json, SnsTopic, "worker_alarms").tags).toEqual({ Component: "worker" });
  });
});

describe("an outside topic", () => {
  test("is what the alarms notify; no topic, key or subscription is made", () => {
    // WHEN
    const { json, topic } = whenTopic({ externalTopicArn: OUTSIDE });
    // THEN
    expect(json.output.arn.value).toBe(OUTSIDE);
    expect(json.output.actions.value).toEqual([OUTSIDE]);
    expect(json.resource).toBeUndefined();
    expect(json.check).toBeUndefined();
    expect(topic.topic).toBeUndefined();
  });
});

describe("Terraform expressions (the stack's variables)", () => {
  test("count the key and topic on an empty outside topic, subscribe per endpoint, and act on whichever exists", () => {
    // WHEN
    const { json } = whenTopic((stack) => ({
      externalTopicArn: new TerraformVariable(stack, "outside", { type: VariableType.STRING }).stringValue,
      subscriptions: new TerraformVariable(stack, "subs", {
        type: VariableType.list(VariableType.object({ protocol: VariableType.STRING, endpoint: VariableType.STRING })),
      }).value,
    }));
    // THEN
    const count = "${(length(var.outside) < 1) ? 1 : 0}";
    expect(block(json, KmsKey, "worker_alarms").count).toBe(count);
    expect(block(json, SnsTopic, "worker_alarms")).toMatchObject({
      count,
      kms_master_key_id: "${aws_kms_key.worker_alarms[0].arn}",
    });
    expect(block(json, SnsTopicSubscription, "worker_alarms")).toMatchObject({
      for_each: "${{ for key, val in var.subs: val.endpoint => val }}",
      topic_arn: "${aws_sns_topic.worker_alarms[0].arn}",
    });
    expect(json.output.actions.value).toBe("${concat(compact([var.outside]), aws_sns_topic.worker_alarms[*].arn)}");
    expect(json.output.arn.value).toBe("${one(concat(compact([var.outside]), aws_sns_topic.worker_alarms[*].arn))}");
    expect(json.check?.worker_alarms_subscribed.assert[0].condition).toBe(
      "${((length(var.outside) >= 1) || (length(var.subs) >= 1))}",
    );
  });
});

describe("guards", () => {
  test("rejects subscriptions with an outside topic, saying what to do", () => {
    expect(() =>
      whenTopic({ externalTopicArn: OUTSIDE, subscriptions: [{ protocol: "email", endpoint: "oncall@example.com" }] }),
    ).toThrow(
      "AlarmTopic: subscriptions are for the stack's own topic, and externalTopicArn names another: subscribe to that topic where it is managed, or drop externalTopicArn",
    );
  });

  test("rejects an endpoint given twice, naming it", () => {
    const twice = { protocol: "email", endpoint: "oncall@example.com" };
    expect(() => whenTopic({ subscriptions: [twice, { ...twice, protocol: "email-json" }] })).toThrow(
      'AlarmTopic: subscriptions has the endpoint "oncall@example.com" twice: give each endpoint once',
    );
  });

  test("rejects a subscription without a protocol", () => {
    expect(() => whenTopic({ subscriptions: [{ protocol: " ", endpoint: "oncall@example.com" }] })).toThrow(
      'AlarmTopic: subscriptions has no protocol for "oncall@example.com": give one, such as "email"',
    );
  });
});
