import { DataAwsCallerIdentity } from "@cdktf/provider-aws/lib/data-aws-caller-identity";
import { DataAwsPartition } from "@cdktf/provider-aws/lib/data-aws-partition";
import { DataAwsSqsQueue } from "@cdktf/provider-aws/lib/data-aws-sqs-queue";
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
  /** ARN of the dead-letter queue (the worker moves dead letters there itself). */
  readonly deadLetterQueueArn: string;
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
  /**
   * Name of its dead-letter queue; an empty string means the conventional name:
   * `<queueName>-dlq`, and `<queueName without .fifo>-dlq.fifo` for a FIFO queue
   * (legacy parity: always `<queueName>-dlq`).
   */
  readonly deadLetterQueueName: string;
  /**
   * The hand-written module's locals exactly: the queue's ARN and URL built from the
   * region, the account and the name, the partition `aws`, nothing looked up but the
   * caller. With false, the queue and its dead-letter queue are looked up in SQS
   * (`data "aws_sqs_queue"`: ARNs and URLs come from AWS, and a plan fails on a wrong
   * name) and the partition comes from `data "aws_partition"`. @default false
   */
  readonly legacyParity?: boolean;
}

/**
 * What the legacy module computed once and used everywhere: `local.name`,
 * `local.common_tags`, the analysis queue's `local.analysis_queue_arn`,
 * `local.analysis_queue_url` and `local.analysis_dlq_name`, and the account from
 * `data.aws_caller_identity.current`. By default the queue and its dead-letter queue
 * are `data.aws_sqs_queue.analysis` and `data.aws_sqs_queue.analysis_dlq` (the locals
 * keep their names and read them), and the partition is `data.aws_partition.current`.
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
  /** The partition of ARNs (`aws`, `aws-cn`, `aws-us-gov`): `data.aws_partition.current`, or `aws` in legacy parity. */
  readonly partition: string;
  /** The DNS suffix of the partition's endpoints (`amazonaws.com`; `amazonaws.com` in legacy parity). */
  readonly dnsSuffix: string;
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
    if (props.legacyParity) {
      this.partition = "aws";
      this.dnsSuffix = "amazonaws.com";
      // coalesce: the first non-empty string, so "" falls back to the default name
      const deadLetterQueueName = local(
        "dlq-name",
        "analysis_dlq_name",
        Fn.coalesce([props.deadLetterQueueName, `${queueName}-dlq`]),
      ).asString;
      this.queue = {
        name: queueName,
        arn: local("queue-arn", "analysis_queue_arn", `arn:aws:sqs:${region}:${this.accountId}:${queueName}`).asString,
        url: local(
          "queue-url",
          "analysis_queue_url",
          `https://sqs.${region}.amazonaws.com/${this.accountId}/${queueName}`,
        ).asString,
        deadLetterQueueName,
        deadLetterQueueArn: `arn:aws:sqs:${region}:${this.accountId}:${deadLetterQueueName}`,
      };
      return;
    }

    const partition = pin(new DataAwsPartition(this, "partition"), "current");
    this.partition = partition.partition;
    this.dnsSuffix = partition.dnsSuffix;
    const analysis = pin(new DataAwsSqsQueue(this, "queue", { name: queueName }), "analysis");
    // A FIFO queue's dead-letter queue is a FIFO queue, whose name ends in .fifo.
    const conventional = Fn.conditional(
      Fn.endswith(queueName, ".fifo"),
      Fn.format("%s-dlq.fifo", [Fn.trimsuffix(queueName, ".fifo")]),
      Fn.format("%s-dlq", [queueName]),
    );
    const deadLetters = pin(
      new DataAwsSqsQueue(this, "dlq", { name: Fn.coalesce([props.deadLetterQueueName, conventional]) }),
      "analysis_dlq",
    );
    this.queue = {
      name: queueName,
      arn: local("queue-arn", "analysis_queue_arn", analysis.arn).asString,
      url: local("queue-url", "analysis_queue_url", analysis.url).asString,
      deadLetterQueueName: local("dlq-name", "analysis_dlq_name", deadLetters.name).asString,
      deadLetterQueueArn: deadLetters.arn,
    };
  }
}
