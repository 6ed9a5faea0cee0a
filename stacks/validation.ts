/**
 * Conditions for variable validations: mistakes in a tfvars file become
 * plan-time errors that name the variable and the fix. Each rule is made for a
 * variable's name (`RuleFor`): the table in `variables.ts` writes each name once.
 */
import type { TerraformVariableValidationConfig } from "cdktf";

type Rule = TerraformVariableValidationConfig;

/** A validation rule, given the name of the variable it checks. */
export type RuleFor = (name: string) => Rule;

/** Patterns that more than one variable checks against. */
export const PATTERNS = {
  /** An AWS resource id with this prefix and 8 or 17 hex digits (`vpc-…`, `subnet-…`, `sg-…`). */
  awsId: (prefix: string) => `^${prefix}-([0-9a-f]{8}|[0-9a-f]{17})$`,
  /** An SQS queue name (not a URL or ARN), `.fifo` at the end for a FIFO queue. */
  queueName: "^[A-Za-z0-9_-]{1,75}(\\.fifo)?$",
} as const;

/** Fargate task sizes: CPU units → allowed memory (MiB) as min, max, step. */
export const FARGATE_SIZES: { cpu: number; memory: number[] | { min: number; max: number; step: number } }[] = [
  { cpu: 256, memory: [512, 1024, 2048] },
  { cpu: 512, memory: { min: 1024, max: 4096, step: 1024 } },
  { cpu: 1024, memory: { min: 2048, max: 8192, step: 1024 } },
  { cpu: 2048, memory: { min: 4096, max: 16384, step: 1024 } },
  { cpu: 4096, memory: { min: 8192, max: 30720, step: 1024 } },
  { cpu: 8192, memory: { min: 16384, max: 61440, step: 4096 } },
  { cpu: 16384, memory: { min: 32768, max: 122880, step: 8192 } },
];

const FARGATE_DOC =
  "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html#fargate-tasks-size";

/** One of the Fargate CPU sizes. */
export const fargateCpu: RuleFor = (name) => ({
  condition: `\${contains([${FARGATE_SIZES.map((s) => s.cpu).join(", ")}], var.${name})}`,
  errorMessage: `${name} must be a Fargate CPU size: 256, 512, 1024, 2048, 4096, 8192 or 16384 (CPU units; 1024 = 1 vCPU). See ${FARGATE_DOC}`,
});

/** Memory that fits the CPU variable `cpu` (a cross-variable validation: Terraform >= 1.9). */
export function fargateMemory(cpu: string): RuleFor {
  return (name) => {
    const clauses = FARGATE_SIZES.map(({ cpu: units, memory }) => {
      const fits = Array.isArray(memory)
        ? `contains([${memory.join(", ")}], var.${name})`
        : `var.${name} >= ${memory.min} && var.${name} <= ${memory.max} && var.${name} % ${memory.step} == 0`;
      return `(var.${cpu} == ${units} && ${fits})`;
    });
    const table = FARGATE_SIZES.map(({ cpu: units, memory }) =>
      Array.isArray(memory)
        ? `${units}: ${memory.join("/")}`
        : `${units}: ${memory.min}-${memory.max} in steps of ${memory.step}`,
    ).join("; ");
    return {
      condition: `\${${clauses.join(" || ")}}`,
      errorMessage: `${name} does not fit ${cpu} on Fargate. Memory (MiB) per CPU size: ${table}. See ${FARGATE_DOC}`,
    };
  };
}

/** A whole number from `min` (to `max`, when given). */
export function wholeNumber(min: number, max?: number): RuleFor {
  const bounds = max === undefined ? `>= ${min}` : `from ${min} to ${max}`;
  return (name) => ({
    condition: `\${floor(var.${name}) == var.${name} && var.${name} >= ${min}${max === undefined ? "" : ` && var.${name} <= ${max}`}}`,
    errorMessage: `${name} must be a whole number ${bounds}.`,
  });
}

/** A number above `bound`. */
export function greaterThan(bound: number): RuleFor {
  return (name) => ({
    condition: `\${var.${name} > ${bound}}`,
    errorMessage: `${name} must be greater than ${bound}.`,
  });
}

/** At least the value of the variable `other` (a cross-variable validation). */
export function atLeastVariable(other: string): RuleFor {
  return (name) => ({
    condition: `\${var.${name} >= var.${other}}`,
    errorMessage: `${name} must be at least ${other}.`,
  });
}

/** Matching `regex`; the message says `<name> must be <what>.` */
export function pattern(regex: string, what: string): RuleFor {
  return (name) => ({
    condition: `\${can(regex(${JSON.stringify(regex)}, var.${name}))}`,
    errorMessage: `${name} must be ${what}.`,
  });
}

/** Empty (which means `emptyMeans`), or matching `regex`. */
export function emptyOrPattern(regex: string, what: string, emptyMeans: string): RuleFor {
  return (name) => ({
    condition: `\${var.${name} == "" || can(regex(${JSON.stringify(regex)}, var.${name}))}`,
    errorMessage: `${name} must be ${what}, or empty for ${emptyMeans}.`,
  });
}

/** A list (empty allowed), each item matching `regex`. */
export function eachMatchesOrNone(regex: string, what: string): RuleFor {
  return (name) => ({
    condition: `\${alltrue([for v in var.${name} : can(regex(${JSON.stringify(regex)}, v))])}`,
    errorMessage: `${name} must be a list of ${what} (or empty).`,
  });
}

/** Within the values of the variables `min` and `max` (a cross-variable validation). */
export function betweenVariables(min: string, max: string): RuleFor {
  return (name) => ({
    condition: `\${var.${name} >= var.${min} && var.${name} <= var.${max}}`,
    errorMessage: `${name} must be from ${min} to ${max} (the autoscaler's bounds): give a ${name} in that range.`,
  });
}

/** A non-empty list, each item matching `regex`. */
export function eachMatches(regex: string, what: string): RuleFor {
  return (name) => ({
    condition: `\${length(var.${name}) > 0 && alltrue([for v in var.${name} : can(regex(${JSON.stringify(regex)}, v))])}`,
    errorMessage: `${name} must be a non-empty list of ${what}.`,
  });
}

/** The values CloudWatch Logs accepts for retention (0 = never expire). */
export const LOG_RETENTION_DAYS = [
  0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

/** A container image with a tag or a digest (a registry port is allowed). */
export const containerImage: RuleFor = pattern(
  "^[^\\s:@]+(:[0-9]+)?(/[^\\s:@]+)*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|@sha256:[0-9a-f]{64})$",
  "an image with a tag or digest: <repository>:<tag> or <repository>@sha256:<digest>",
);

/** A number of tasks of a service. */
export const taskCount: RuleFor = wholeNumber(0, 100);

/** A retention that CloudWatch Logs accepts. */
export const logRetention: RuleFor = (name) => ({
  condition: `\${contains([${LOG_RETENTION_DAYS.join(", ")}], var.${name})}`,
  errorMessage: `${name} must be a retention CloudWatch Logs accepts: ${LOG_RETENTION_DAYS.join(", ")} (0 = never expire).`,
});

/**
 * SNS subscription endpoints by protocol, as the SNS Subscribe API takes them
 * (https://docs.aws.amazon.com/sns/latest/api/API_Subscribe.html): the protocols
 * the alarm topic accepts, each with the form of its endpoint.
 */
export const SNS_ENDPOINTS: Record<string, { pattern: string; example: string }> = {
  email: { pattern: "^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", example: "oncall@example.com" },
  "email-json": { pattern: "^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", example: "oncall@example.com" },
  https: { pattern: "^https://[^\\s]+$", example: "https://events.example.com/sns" },
  sms: { pattern: "^\\+[1-9][0-9]{6,14}$", example: "+15555550123" },
  sqs: {
    pattern: "^arn:aws[a-z-]*:sqs:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,80}$",
    example: "arn:aws:sqs:us-east-2:123456789012:alarms",
  },
  lambda: {
    pattern: "^arn:aws[a-z-]*:lambda:[a-z0-9-]+:[0-9]{12}:function:[A-Za-z0-9_-]{1,64}(:[A-Za-z0-9_$-]{1,128})?$",
    example: "arn:aws:lambda:us-east-2:123456789012:function:page",
  },
};

/**
 * A list of `{ protocol, endpoint }` subscriptions to the stack's own topic: known
 * protocols, endpoints of their protocol's form, each endpoint once, and none when
 * `topicVariable` names an outside topic (its subscriptions are managed where it lives).
 */
export function snsSubscriptions(topicVariable: string): RuleFor[] {
  const protocols = Object.keys(SNS_ENDPOINTS);
  const patterns = Object.entries(SNS_ENDPOINTS)
    .map(([protocol, { pattern }]) => `${JSON.stringify(protocol)} = ${JSON.stringify(pattern)}`)
    .join(", ");
  const forms = Object.entries(SNS_ENDPOINTS)
    .map(([protocol, { example }]) => `${protocol}: ${example}`)
    .join("; ");
  return [
    (name) => ({
      condition: `\${alltrue([for s in var.${name} : contains(${JSON.stringify(protocols)}, s.protocol)])}`,
      errorMessage: `${name} has a protocol SNS does not offer here: give one of ${protocols.join(", ")}.`,
    }),
    (name) => ({
      condition: `\${alltrue([for s in var.${name} : can(regex(lookup({ ${patterns} }, s.protocol, "^$"), s.endpoint))])}`,
      errorMessage: `${name} has an endpoint that does not fit its protocol. Forms: ${forms}.`,
    }),
    (name) => ({
      condition: `\${length(distinct([for s in var.${name} : s.endpoint])) == length(var.${name})}`,
      errorMessage: `${name} lists an endpoint twice: give each endpoint once.`,
    }),
    (name) => ({
      condition: `\${var.${topicVariable} == "" || length(var.${name}) == 0}`,
      errorMessage: `${name} must be empty when ${topicVariable} is set: subscribe to that topic where it is managed, or leave ${topicVariable} empty to use the stack's own topic.`,
    }),
  ];
}
