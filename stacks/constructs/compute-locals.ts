import { DataAwsCallerIdentity } from "@cdktf/provider-aws/lib/data-aws-caller-identity";
import { Fn, TerraformLocal } from "cdktf";
import { Construct } from "constructs";
import { pin } from "../pin.js";
import type { Tags } from "../tags.js";

/** The analysis job queue and its dead-letter queue: they live outside this module. */
export interface AnalysisQueue {
  /** The queue's name. */
  readonly name: string;
  /** The queue's ARN (IAM statements). */
  readonly arn: string;
  /** The queue's URL (the services' `SQS_QUEUE_URL`). */
  readonly url: string;
  /** Name of the queue's dead-letter queue (the dead-letters alarm). */
  readonly deadLetterQueueName: string;
}

export interface ComputeLocalsProps {
  /** The project name: `local.name`, the prefix of every name. */
  readonly projectName: string;
  /** The environment: the `Environment` tag. */
  readonly environment: string;
  /** Region of the queue (and of everything else). */
  readonly region: string;
  /** Name of the analysis queue. */
  readonly queueName: string;
  /** Name of its dead-letter queue; an empty string means `<queueName>-dlq`. */
  readonly deadLetterQueueName: string;
}

/**
 * What the legacy module computed once and used everywhere: `local.name`,
 * `local.common_tags`, the analysis queue's `local.analysis_queue_arn`,
 * `local.analysis_queue_url` and `local.analysis_dlq_name`, and the account from
 * `data.aws_caller_identity.current`. The queue's ARN and URL are built from
 * the region, the account and the name, as the legacy module did.
 */
export class ComputeLocals extends Construct {
  /** Prefix of every name (`local.name`). */
  readonly name: string;
  /** Tags of every resource (`local.common_tags`): Project, Environment, ManagedBy, Module. */
  readonly commonTags: Tags;
  /** The account and identity that Terraform runs as. */
  readonly caller: DataAwsCallerIdentity;
  /** The account id, for ARNs. */
  readonly accountId: string;
  /** The analysis queue and its dead-letter queue. */
  readonly queue: AnalysisQueue;

  constructor(scope: Construct, id: string, props: ComputeLocalsProps) {
    super(scope, id);
    const local = (localId: string, name: string, expression: unknown) =>
      pin(new TerraformLocal(this, localId, expression), name);

    this.caller = pin(new DataAwsCallerIdentity(this, "caller"), "current");
    this.accountId = this.caller.accountId;
    this.name = local("name", "name", props.projectName).asString;
    this.commonTags = local("common-tags", "common_tags", {
      Project: props.projectName,
      Environment: props.environment,
      ManagedBy: "terraform",
      Module: "compute",
    }).asStringMap;

    const { region, queueName } = props;
    this.queue = {
      name: queueName,
      arn: local("queue-arn", "analysis_queue_arn", `arn:aws:sqs:${region}:${this.accountId}:${queueName}`).asString,
      url: local(
        "queue-url",
        "analysis_queue_url",
        `https://sqs.${region}.amazonaws.com/${this.accountId}/${queueName}`,
      ).asString,
      // coalesce: the first non-empty string, so "" falls back to the default name
      deadLetterQueueName: local(
        "dlq-name",
        "analysis_dlq_name",
        Fn.coalesce([props.deadLetterQueueName, `${queueName}-dlq`]),
      ).asString,
    };
  }
}
