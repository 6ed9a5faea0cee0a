/**
 * The module's input variables, as one table grouped by concern (like a
 * Terraform module's `variables.tf`). The legacy ones keep the hand-written
 * module's names, types, defaults and descriptions, so that an existing tfvars
 * file such as `prod.tfvars` keeps working with `terraform plan -var-file`; the
 * ones the worker's operations added all have defaults. Validations turn
 * mistakes into plan-time errors that name the variable and the fix.
 *
 * To add an input: add a row under its concern; read it in the stack as
 * `input.<name>` (typed by the row's `type`). The README's inputs table is
 * generated from the synth (`npm run docs`).
 */
import { type IResolvable, TerraformVariable, VariableType } from "cdktf";
import { Construct } from "constructs";
import { WORST_CASE_TASK_START_S } from "./constructs/worker-autoscaling.js";
import { pin } from "./pin.js";
import {
  atLeastVariable,
  betweenVariables,
  containerImage,
  eachMatches,
  eachMatchesOrNone,
  emptyOrPattern,
  fargateCpu,
  fargateMemory,
  greaterThan,
  logRetention,
  PATTERNS,
  pattern,
  type RuleFor,
  snsSubscriptions,
  taskCount,
  wholeNumber,
} from "./validation.js";

const { STRING, NUMBER, LIST_STRING } = VariableType;

/** `list(object({protocol=string, endpoint=string}))`: SNS subscriptions. */
const SUBSCRIPTIONS = VariableType.list(
  VariableType.object({ protocol: STRING, endpoint: STRING }),
) as "list(object({protocol=string, endpoint=string}))";

/** One subscription to the stack's alarm topic, as `alarm_subscriptions` holds it. */
export interface AlarmSubscription {
  /** The SNS protocol: email, email-json, https, sms, sqs or lambda. */
  readonly protocol: string;
  /** Where SNS delivers: an address, URL, phone number or ARN of the protocol's form. */
  readonly endpoint: string;
}

/** One input variable: what Terraform declares for it. */
interface VariableSpec {
  /** What the input is; Terraform and the README's inputs table show it. */
  readonly description: string;
  /** The Terraform type. */
  readonly type: typeof STRING | typeof NUMBER | typeof LIST_STRING | typeof SUBSCRIPTIONS;
  /** The value when the tfvars do not set it. @default - none: the input is required */
  readonly default?: string | number | readonly string[] | readonly AlarmSubscription[];
  /** Plan-time checks, each made for this variable's name. @default - none */
  readonly validation?: readonly RuleFor[];
}

export const VARIABLES = {
  // ---------------------------------------------------------------------------
  // General
  // ---------------------------------------------------------------------------
  aws_region: {
    description: "AWS region for all compute resources",
    type: STRING,
    default: "us-east-2",
    validation: [pattern("^[a-z]{2}(-[a-z]+)+-[0-9]+$", 'a region name such as "us-east-2"')],
  },
  project_name: {
    description: "Name prefix for every resource",
    type: STRING,
    default: "cricksy-ai",
    validation: [
      pattern(
        "^[a-z][a-z0-9-]{1,30}[a-z0-9]$",
        "3-32 characters of a-z, 0-9 and -, starting with a letter (it prefixes IAM, ECS and log group names)",
      ),
    ],
  },
  environment: {
    description: "Deployment environment tag",
    type: STRING,
    default: "prod",
    validation: [
      pattern(
        "^[!-~]([ -~]{0,253}[!-~])?$",
        "1 to 255 printable ASCII characters, no space at either end (it is the Environment tag and the worker metrics' Environment dimension)",
      ),
    ],
  },
  log_retention_days: {
    description: "CloudWatch log retention for both services",
    type: NUMBER,
    default: 30,
    validation: [logRetention],
  },

  // ---------------------------------------------------------------------------
  // Network (the VPC and the load balancer live outside this module)
  // ---------------------------------------------------------------------------
  vpc_id: {
    description: "VPC that the ECS tasks run in",
    type: STRING,
    validation: [pattern(PATTERNS.awsId("vpc"), 'a VPC id such as "vpc-0a1b2c3d4e5f60718"')],
  },
  private_subnet_ids: {
    description: "Private subnets for the ECS tasks",
    type: LIST_STRING,
    validation: [eachMatches(PATTERNS.awsId("subnet"), 'subnet ids such as "subnet-0aa11bb22cc33dd44"')],
  },
  alb_security_group_id: {
    description: "Security group of the public load balancer in front of the backend",
    type: STRING,
    validation: [pattern(PATTERNS.awsId("sg"), 'a security group id such as "sg-0123456789abcdef0"')],
  },
  alb_target_group_arn: {
    description: "Target group that the backend service registers with",
    type: STRING,
    validation: [
      pattern(
        "^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:[0-9]{12}:targetgroup/[A-Za-z0-9-]{1,32}/[0-9a-f]{16}$",
        "a target group ARN: arn:aws:elasticloadbalancing:<region>:<account>:targetgroup/<name>/<16 hex digits>",
      ),
    ],
  },

  // ---------------------------------------------------------------------------
  // Video pipeline: the bucket, the job queue and the database secret (outside this module)
  // ---------------------------------------------------------------------------
  videos_bucket_name: {
    description: "S3 bucket holding uploaded videos and analysis results",
    type: STRING,
    validation: [
      pattern("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", "an S3 bucket name: 3-63 characters of a-z, 0-9, . and -"),
    ],
  },
  analysis_queue_name: {
    description: "Name of the SQS queue that carries video analysis jobs",
    type: STRING,
    validation: [
      pattern(
        PATTERNS.queueName,
        "an SQS queue name (a name, not a URL or ARN): up to 80 characters of A-Z, a-z, 0-9, - and _, .fifo at the end for a FIFO queue",
      ),
    ],
  },
  analysis_dlq_name: {
    description:
      'Name of the analysis queue\'s dead-letter queue, looked up in SQS (default: "<analysis_queue_name>-dlq"; for a FIFO queue "<name without .fifo>-dlq.fifo")',
    type: STRING,
    default: "",
    validation: [
      emptyOrPattern(PATTERNS.queueName, "an SQS queue name (not a URL or ARN)", "<analysis_queue_name>-dlq"),
      (name) => ({
        condition: `\${var.${name} == "" || endswith(var.${name}, ".fifo") == endswith(var.analysis_queue_name, ".fifo")}`,
        errorMessage: `${name} must end in .fifo exactly when analysis_queue_name does: SQS gives a FIFO queue a FIFO dead-letter queue and a standard queue a standard one.`,
      }),
    ],
  },
  database_url_secret_arn: {
    description: "Secrets Manager ARN of the DATABASE_URL secret",
    type: STRING,
    validation: [
      pattern(
        "^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:.+$",
        "a Secrets Manager secret ARN: arn:aws:secretsmanager:<region>:<account>:secret:<name>",
      ),
    ],
  },

  video_pipeline_kms_key_arns: {
    description:
      "Customer managed KMS keys (key ARNs) that encrypt the videos bucket, the analysis queue or its dead-letter queue: the worker and the backend may use them through S3 and SQS (none by default)",
    type: LIST_STRING,
    default: [],
    validation: [
      eachMatchesOrNone(
        "^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$",
        "KMS key ARNs (arn:aws:kms:<region>:<account>:key/<key id>; IAM does not take an alias for a key's use)",
      ),
    ],
  },

  // ---------------------------------------------------------------------------
  // Backend (API) service
  // ---------------------------------------------------------------------------
  backend_image: {
    description: "Container image (repository:tag) of the API backend",
    type: STRING,
    validation: [containerImage],
  },
  backend_container_port: {
    description: "Port the backend container listens on",
    type: NUMBER,
    default: 8000,
    validation: [wholeNumber(1, 65535)],
  },
  backend_desired_count: {
    description: "Number of backend tasks",
    type: NUMBER,
    default: 2,
    validation: [taskCount],
  },
  backend_cpu: { description: "Backend task CPU units", type: NUMBER, default: 512, validation: [fargateCpu] },
  backend_memory: {
    description: "Backend task memory (MiB)",
    type: NUMBER,
    default: 1024,
    validation: [fargateMemory("backend_cpu")],
  },

  // ---------------------------------------------------------------------------
  // Worker service
  // ---------------------------------------------------------------------------
  worker_image: {
    description: "Container image (repository:tag) of the analysis worker",
    type: STRING,
    validation: [containerImage],
  },
  worker_desired_count: {
    description: "Number of worker tasks",
    type: NUMBER,
    default: 1,
    validation: [taskCount, betweenVariables("worker_min_count", "worker_max_count")],
  },
  worker_cpu: { description: "Worker task CPU units", type: NUMBER, default: 512, validation: [fargateCpu] },
  worker_memory: {
    description: "Worker task memory (MiB)",
    type: NUMBER,
    default: 1024,
    validation: [fargateMemory("worker_cpu")],
  },
  worker_ephemeral_storage_gib: {
    description:
      "Ephemeral storage of a worker task (GiB, 21-200): downloaded videos and thumbnails of the jobs in flight",
    type: NUMBER,
    default: 30,
    validation: [wholeNumber(21, 200)],
  },
  worker_video_prefixes: {
    description: "Key prefixes of uploaded videos in the bucket that the worker may read",
    type: LIST_STRING,
    default: ["uploads/"],
    validation: [eachMatches("^[^*?]+/$", 'key prefixes ending in "/" without wildcards, such as "uploads/"')],
  },

  // ---------------------------------------------------------------------------
  // Worker scaling on backlog
  // ---------------------------------------------------------------------------
  worker_min_count: {
    description: "Fewest worker tasks the autoscaler keeps (0 lets the worker scale to zero when the queue is empty)",
    type: NUMBER,
    default: 1,
    validation: [taskCount],
  },
  worker_max_count: {
    description: "Most worker tasks the autoscaler runs",
    type: NUMBER,
    default: 10,
    validation: [wholeNumber(1, 100), atLeastVariable("worker_min_count")],
  },
  worker_backlog_per_task: {
    description:
      "Visible jobs per running worker task that the autoscaler aims for (latency goal / job duration x jobs in flight per task)",
    type: NUMBER,
    default: 10,
    validation: [greaterThan(0)],
  },
  worker_scale_out_cooldown_seconds: {
    description: "Seconds after a scale-out before the next one",
    type: NUMBER,
    default: 60,
    validation: [wholeNumber(0, 3600)],
  },
  worker_scale_from_zero_cooldown_seconds: {
    description: `Seconds after the scale-from-zero step before it may add a task again: above the worst case of a task's start (${WORST_CASE_TASK_START_S} s: provisioning and image pull, then the health check's start period and retries)`,
    type: NUMBER,
    default: 600,
    validation: [wholeNumber(WORST_CASE_TASK_START_S, 3600)],
  },
  worker_scale_in_cooldown_seconds: {
    description: "Seconds after a scale-in before the next one",
    type: NUMBER,
    default: 300,
    validation: [wholeNumber(0, 3600)],
  },

  // ---------------------------------------------------------------------------
  // Worker alarms
  // ---------------------------------------------------------------------------
  alarm_sns_topic_arn: {
    description:
      "An SNS topic (ARN) of your own that the worker alarms notify instead of the stack's (empty: the stack makes its own, KMS-encrypted, with alarm_subscriptions)",
    type: STRING,
    default: "",
    validation: [
      emptyOrPattern(
        "^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}$",
        "a standard SNS topic ARN (arn:aws:sns:<region>:<account>:<topic>; CloudWatch alarms cannot notify a FIFO topic)",
        "the stack's own topic",
      ),
    ],
  },
  alarm_subscriptions: {
    description:
      'Who the stack\'s alarm topic notifies: a list of { protocol, endpoint } (protocols email, email-json, https, sms, sqs, lambda), e.g. [{ protocol = "email", endpoint = "oncall@example.com" }]',
    type: SUBSCRIPTIONS,
    default: [],
    validation: snsSubscriptions("alarm_sns_topic_arn"),
  },
  worker_max_message_age_seconds: {
    description: "Alarm when the oldest job in the analysis queue waits longer than this (seconds)",
    type: NUMBER,
    default: 1800,
    validation: [wholeNumber(60, 1209600)],
  },
  worker_failed_jobs_threshold: {
    description: "Alarm when more jobs than this fail for good within 15 minutes",
    type: NUMBER,
    default: 5,
    validation: [wholeNumber(0)],
  },
} satisfies Record<string, VariableSpec>;

export type VariableName = keyof typeof VARIABLES;

/** What the stack reads of a variable of each type: a number, a list or a string token. */
type ValueOf<T> = T extends typeof NUMBER
  ? number
  : T extends typeof LIST_STRING
    ? string[]
    : T extends typeof SUBSCRIPTIONS
      ? IResolvable
      : string;

/** Every input's value (`var.<name>`), by its Terraform name, typed by its row. */
export type ComputeInputs = { readonly [N in VariableName]: ValueOf<(typeof VARIABLES)[N]["type"]> };

/** Declares the input variables of `VARIABLES`; `inputs` holds their values. */
export class ComputeVariables extends Construct {
  /** Each variable, by its Terraform name (`var.<name>`). */
  readonly variables: { readonly [N in VariableName]: TerraformVariable };
  /** Each variable's value as the stack reads it: `inputs.worker_cpu` is `var.worker_cpu`. */
  readonly inputs: ComputeInputs;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    const entries = Object.entries(VARIABLES) as [VariableName, VariableSpec][];
    this.variables = Object.fromEntries(
      entries.map(([name, { validation, ...spec }]) => [
        name,
        pin(new TerraformVariable(this, name, { ...spec, validation: validation?.map((rule) => rule(name)) }), name),
      ]),
    ) as ComputeVariables["variables"];
    this.inputs = Object.fromEntries(
      entries.map(([name, { type }]) => {
        const variable = this.variables[name];
        const value =
          type === NUMBER
            ? variable.numberValue
            : type === LIST_STRING
              ? variable.listValue
              : type === SUBSCRIPTIONS
                ? (variable.value as IResolvable)
                : variable.stringValue;
        return [name, value];
      }),
    ) as unknown as ComputeInputs;
  }
}
