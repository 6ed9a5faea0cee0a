import { DataAwsIamPolicyDocument } from "@cdktf/provider-aws/lib/data-aws-iam-policy-document";
import { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import { SnsTopic } from "@cdktf/provider-aws/lib/sns-topic";
import { SnsTopicSubscription } from "@cdktf/provider-aws/lib/sns-topic-subscription";
import { Fn, type IResolvable, Op, ref, TerraformIterator, TerraformStack, Token } from "cdktf";
import { Construct } from "constructs";
import { pin } from "../pin.js";
import type { Tags } from "../tags.js";
import type { AlarmSubscription } from "../variables.js";

/** The Terraform name of the key, the topic and its subscriptions. */
const LOGICAL_ID = "worker_alarms";

export interface AlarmTopicProps {
  /** Prefix of the topic's name (the project name): `<namePrefix>-worker-alarms`. */
  readonly namePrefix: string;
  /**
   * An SNS topic (ARN) of your own that the alarms notify instead: then no topic or key
   * is made. An empty string (or a Terraform expression that is empty: `var.alarm_sns_topic_arn`)
   * means the stack's own topic. @default "" (the stack's own topic)
   */
  readonly externalTopicArn?: string;
  /**
   * Who the stack's own topic notifies: `{ protocol, endpoint }` items, or a Terraform list of
   * them (`var.alarm_subscriptions`). Each endpoint once. @default - none (a plan warns)
   */
  readonly subscriptions?: readonly AlarmSubscription[] | IResolvable;
  /** Account that administers the topic's key (its key policy names the account's root). */
  readonly accountId: string;
  /** Partition of the account's ARN. @default "aws" */
  readonly partition?: string;
  /** Tags of the key and the topic. @default - none */
  readonly tags?: Tags;
}

/**
 * Where the worker's alarms go. By default the stack's own SNS topic,
 * `aws_sns_topic.worker_alarms`, encrypted with its own customer managed KMS key
 * `aws_kms_key.worker_alarms` (rotated yearly), whose key policy lets CloudWatch use it:
 * CloudWatch cannot publish to a topic encrypted with the AWS managed key `aws/sns`,
 * whose policy cannot be changed (the SNS developer guide, "Key management": event
 * sources from AWS services need `kms:GenerateDataKey*` and `kms:Decrypt` on a customer
 * managed key, granted to the service principal in its key policy). The subscriptions
 * are `aws_sns_topic_subscription.worker_alarms["<endpoint>"]`.
 *
 * With `externalTopicArn` the alarms notify that topic, and none of these is made.
 * Given Terraform expressions, the choice is Terraform's (`count`), so one synth serves both.
 */
export class AlarmTopic extends Construct {
  /** The topic the alarms notify: the outside one, or the stack's own. */
  readonly topicArn: string;
  /** The alarms' actions: a list holding `topicArn`. */
  readonly actions: string[];
  /** The stack's own topic, when this construct decides in TypeScript that there is one. @default - none */
  readonly topic?: SnsTopic;

  constructor(scope: Construct, id: string, props: AlarmTopicProps) {
    super(scope, id);
    const external = props.externalTopicArn ?? "";
    const subscriptions = props.subscriptions ?? [];
    const literalExternal = !Token.isUnresolved(external);
    const literalSubscriptions = !Token.isUnresolved(subscriptions);
    if (literalExternal && external !== "" && literalSubscriptions && (subscriptions as unknown[]).length > 0) {
      throw new Error(
        "AlarmTopic: subscriptions are for the stack's own topic, and externalTopicArn names another: subscribe to that topic where it is managed, or drop externalTopicArn",
      );
    }
    if (literalSubscriptions) checkSubscriptions(subscriptions as readonly AlarmSubscription[]);
    if (literalExternal && external !== "") {
      this.topicArn = external;
      this.actions = [external];
      return;
    }

    // count: the topic and key exist only when no outside topic is named (decided by Terraform for an expression).
    const count = literalExternal ? undefined : Token.asNumber(Fn.conditional(Op.lt(Fn.lengthOf(external), 1), 1, 0));
    /** An attribute of the counted key or topic: `aws_<type>.worker_alarms[0].<attribute>` (or `[*]` for the list). */
    const counted = (type: string, index: "0" | "*", attribute: string) =>
      ref(`${type}.${LOGICAL_ID}[${index}].${attribute}`, TerraformStack.of(this));

    const partition = props.partition ?? "aws";
    const keyPolicy = pin(
      new DataAwsIamPolicyDocument(this, "key-policy", {
        statement: [
          {
            sid: "AccountAdministersKey",
            principals: [{ type: "AWS", identifiers: [`arn:${partition}:iam::${props.accountId}:root`] }],
            actions: ["kms:*"],
            resources: ["*"],
          },
          {
            sid: "CloudWatchAlarmsPublish",
            principals: [{ type: "Service", identifiers: ["cloudwatch.amazonaws.com"] }],
            actions: ["kms:Decrypt", "kms:GenerateDataKey*"],
            resources: ["*"],
          },
        ],
      }),
      `${LOGICAL_ID}_key`,
    );
    const key = pin(
      new KmsKey(this, "key", {
        count,
        description: `Encrypts the SNS topic ${props.namePrefix}-worker-alarms; CloudWatch alarms may use it`,
        enableKeyRotation: true,
        policy: keyPolicy.json,
        tags: props.tags,
      }),
      LOGICAL_ID,
    );
    const topic = pin(
      new SnsTopic(this, "topic", {
        count,
        name: `${props.namePrefix}-worker-alarms`,
        kmsMasterKeyId: count === undefined ? key.arn : Token.asString(counted("aws_kms_key", "0", "arn")),
        tags: props.tags,
      }),
      LOGICAL_ID,
    );
    const topicArn = count === undefined ? topic.arn : Token.asString(counted("aws_sns_topic", "0", "arn"));

    // One subscription per endpoint, keyed by it: reordering the list changes no address.
    const literalList = literalSubscriptions ? (subscriptions as readonly AlarmSubscription[]) : undefined;
    if (literalList === undefined || literalList.length > 0) {
      const each = literalList
        ? TerraformIterator.fromMap(
            Object.fromEntries(literalList.map(({ protocol, endpoint }) => [endpoint, { protocol, endpoint }])),
          )
        : TerraformIterator.fromComplexList(subscriptions as IResolvable, "endpoint");
      pin(
        new SnsTopicSubscription(this, "subscriptions", {
          forEach: each,
          topicArn,
          protocol: each.getString("protocol"),
          endpoint: each.getString("endpoint"),
        }),
        LOGICAL_ID,
      );
    }

    if (count === undefined) {
      this.topic = topic;
      this.topicArn = topic.arn;
      this.actions = [topic.arn];
    } else {
      // Exactly one of the two lists holds an ARN: the outside topic's, or the stack's own.
      this.actions = Fn.concat([Fn.compact([external]), Token.asList(counted("aws_sns_topic", "*", "arn"))]);
      this.topicArn = Fn.one(this.actions);
    }

    // A topic without subscribers delivers nowhere: every plan says so (a warning, not an error).
    if (literalList === undefined || literalList.length === 0) {
      const condition = literalList
        ? false
        : Op.or(Op.gte(Fn.lengthOf(external), 1), Op.gte(Fn.lengthOf(subscriptions), 1));
      TerraformStack.of(this).addOverride(`check.${LOGICAL_ID}_subscribed`, {
        assert: [
          {
            condition,
            error_message: `The worker's alarm topic ${props.namePrefix}-worker-alarms has no subscription: alarms reach nobody until alarm_subscriptions names someone (or someone subscribes to the topic), or alarm_sns_topic_arn names your own topic.`,
          },
        ],
      });
    }
  }
}

/** Literal subscriptions (the stack's come from a variable, which validates them at plan time). */
function checkSubscriptions(subscriptions: readonly AlarmSubscription[]): void {
  const seen = new Set<string>();
  for (const { protocol, endpoint } of subscriptions) {
    if (Token.isUnresolved(endpoint)) continue;
    if (seen.has(endpoint)) {
      throw new Error(`AlarmTopic: subscriptions has the endpoint "${endpoint}" twice: give each endpoint once`);
    }
    seen.add(endpoint);
    if (!Token.isUnresolved(protocol) && protocol.trim() === "") {
      throw new Error(`AlarmTopic: subscriptions has no protocol for "${endpoint}": give one, such as "email"`);
    }
  }
}
