/**
 * Conditions for variable validations: mistakes in a tfvars file become
 * plan-time errors that name the variable and the fix. Each helper returns a
 * Terraform expression (as `${...}`) and the message.
 */
import type { TerraformVariableValidationConfig } from "cdktf";

type Rule = TerraformVariableValidationConfig;

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

export function fargateCpu(name: string): Rule {
  return {
    condition: `\${contains([${FARGATE_SIZES.map((s) => s.cpu).join(", ")}], var.${name})}`,
    errorMessage: `${name} must be a Fargate CPU size: 256, 512, 1024, 2048, 4096, 8192 or 16384 (CPU units; 1024 = 1 vCPU). See ${FARGATE_DOC}`,
  };
}

/** Memory that fits the CPU variable `cpu` (a cross-variable validation: Terraform >= 1.9). */
export function fargateMemory(name: string, cpu: string): Rule {
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
}

export function wholeNumber(name: string, min: number, max?: number): Rule {
  const bounds = max === undefined ? `>= ${min}` : `from ${min} to ${max}`;
  return {
    condition: `\${floor(var.${name}) == var.${name} && var.${name} >= ${min}${max === undefined ? "" : ` && var.${name} <= ${max}`}}`,
    errorMessage: `${name} must be a whole number ${bounds}.`,
  };
}

export function pattern(name: string, regex: string, what: string): Rule {
  return {
    condition: `\${can(regex(${JSON.stringify(regex)}, var.${name}))}`,
    errorMessage: `${name} must be ${what}.`,
  };
}

/** Empty, or matching `regex`. */
export function emptyOrPattern(name: string, regex: string, message: string): Rule {
  return {
    condition: `\${var.${name} == "" || can(regex(${JSON.stringify(regex)}, var.${name}))}`,
    errorMessage: message,
  };
}

export function eachMatches(name: string, regex: string, what: string): Rule {
  return {
    condition: `\${length(var.${name}) > 0 && alltrue([for v in var.${name} : can(regex(${JSON.stringify(regex)}, v))])}`,
    errorMessage: `${name} must be a non-empty list of ${what}.`,
  };
}

/** The values CloudWatch Logs accepts for retention (0 = never expire). */
export const LOG_RETENTION_DAYS = [
  0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

export function logRetention(name: string): Rule {
  return {
    condition: `\${contains([${LOG_RETENTION_DAYS.join(", ")}], var.${name})}`,
    errorMessage: `${name} must be a retention CloudWatch Logs accepts: ${LOG_RETENTION_DAYS.join(", ")} (0 = never expire).`,
  };
}
