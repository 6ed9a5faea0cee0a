/**
 * `npm run deploy-policy`: writes docs/ci-deploy-policy.json, the IAM policy that the CI
 * deploy role needs to plan and apply the stack, generated from the resource and data
 * source types of a fresh synth of the working tree (both modes) and the state backend:
 *
 *   npm run deploy-policy                  write the policy
 *   npm run -s deploy-policy -- --check    exit 1 when the committed policy is not the current one
 *
 * Per type, the actions and resource patterns come from TYPE_PERMISSIONS
 * (tools/lib/deploy/permissions.ts); a type of the synth without an entry there is an
 * error that names it, so a new resource type cannot reach the stack without its grants.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { pathToFileURL } from "node:url";
import { LEGACY_BACKEND } from "../stacks/compute-stack.js";
import { VARIABLES } from "../stacks/variables.js";
import { type Synths, synthBoth } from "./docs-tables.js";
import { defineCommand, runCommand } from "./lib/cli/command.js";
import { UsageError } from "./lib/cli/errors.js";
import { type PolicyNames, TYPE_PERMISSIONS } from "./lib/deploy/permissions.js";
import { PROJECT_ROOT } from "./lib/project.js";
import type { StackJson } from "./lib/stack/read.js";

/** The most characters (without whitespace) a customer managed policy may hold (IAM quotas). */
export const MANAGED_POLICY_MAX_CHARS = 6144;

/** Where the policy is committed, relative to the project. */
export const POLICY_FILE = "docs/ci-deploy-policy.json";

export interface PolicyStatement {
  Sid: string;
  Effect: "Allow";
  Action: string[];
  Resource: string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

/** The Terraform types of a synth: `aws_ecs_service`, and `data.aws_sqs_queue` for data sources. */
export function stackTypes(json: StackJson): string[] {
  return [...Object.keys(json.resource ?? {}), ...Object.keys(json.data ?? {}).map((type) => `data.${type}`)].sort();
}

/** `aws_ecs_service` → `EcsService`, `data.aws_sqs_queue` → `DataSqsQueue`. */
const sidOf = (type: string) =>
  type
    .replace(/^data\.aws_/, "data_")
    .replace(/^aws_/, "")
    .split("_")
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join("");

/** The state backend's statements: the state object and its lock (Terraform's S3 backend with a DynamoDB lock table). */
function backendStatements(partition: string): PolicyStatement[] {
  const { bucket, key, dynamodbTable, region } = LEGACY_BACKEND;
  const statements: PolicyStatement[] = [
    {
      Sid: "StateBucket",
      Effect: "Allow",
      Action: ["s3:ListBucket"],
      Resource: [`arn:${partition}:s3:::${bucket}`],
    },
    {
      Sid: "StateObject",
      Effect: "Allow",
      Action: ["s3:GetObject", "s3:PutObject"],
      Resource: [`arn:${partition}:s3:::${bucket}/${key}`],
    },
  ];
  if (dynamodbTable) {
    statements.push({
      Sid: "StateLock",
      Effect: "Allow",
      Action: ["dynamodb:DescribeTable", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"],
      Resource: [`arn:${partition}:dynamodb:${region}:*:table/${dynamodbTable}`],
    });
  }
  return statements;
}

/** The deploy role's policy for the types of both synths, with the stack's names. */
export function deployPolicy(synths: Synths, names: PolicyNames) {
  const types = [...new Set([...stackTypes(synths.operations), ...stackTypes(synths.legacyParity)])].sort();
  const missing = types.filter((type) => !(type in TYPE_PERMISSIONS));
  if (missing.length) {
    throw new UsageError(
      `deploy-policy: no permissions for ${missing.join(", ")}: add an entry to TYPE_PERMISSIONS in tools/lib/deploy/permissions.ts`,
    );
  }
  // Grants on the same resources under the same condition share one statement (a managed
  // policy holds at most 6,144 characters), named after the types that need it.
  const merged = new Map<string, PolicyStatement & { types: string[] }>();
  for (const type of types) {
    for (const grant of TYPE_PERMISSIONS[type].grants) {
      const resources = grant.resources(names);
      const key = JSON.stringify([resources, grant.condition ?? null]);
      const statement = merged.get(key) ?? {
        Sid: "",
        Effect: "Allow" as const,
        Action: [],
        Resource: resources,
        ...(grant.condition ? { Condition: grant.condition } : {}),
        types: [],
      };
      for (const action of grant.actions) if (!statement.Action.includes(action)) statement.Action.push(action);
      if (!statement.types.includes(type)) statement.types.push(type);
      merged.set(key, statement);
    }
  }
  const seen = new Map<string, number>();
  const statements = [...merged.values()].map(({ types: of, ...statement }) => {
    const base = statement.Resource.join() === "*" ? "NoResourceLevelPermissions" : of.map(sidOf).join("");
    const n = (seen.get(base) ?? 0) + 1;
    seen.set(base, n);
    return { ...statement, Sid: n === 1 ? base : `${base}${n}`, Action: [...statement.Action].sort() };
  });
  return { Version: "2012-10-17", Statement: [...backendStatements(names.partition), ...statements] };
}

/** The policy file's text. */
export function renderPolicy(synths: Synths = synthBoth(), names = defaultNames()): string {
  return `${JSON.stringify(deployPolicy(synths, names), null, 2)}\n`;
}

/** The stack's names with the default inputs: `project_name`'s default, the `aws` partition. */
export function defaultNames(): PolicyNames {
  return { project: String(VARIABLES.project_name.default), partition: "aws" };
}

export const deployPolicyCommand = defineCommand({
  name: "deploy-policy",
  summary:
    "Writes docs/ci-deploy-policy.json: the IAM policy of the CI deploy role, from the resource and data source types of a fresh synth of the working tree and the state backend.",
  usage: ["[--check] [--project <name>] [--root <project folder>]"],
  options: {
    check: { type: "boolean", help: "Exit 1 when the committed policy is not the current one (writes nothing)." },
    project: {
      type: "string",
      value: "name",
      help: "The project_name the policy's resource patterns use.",
      default: String(VARIABLES.project_name.default),
    },
    root: { type: "string", value: "folder", help: "The project folder.", default: PROJECT_ROOT },
  },
  async run(options) {
    const path = join(options.root, POLICY_FILE);
    const current = renderPolicy(synthBoth(), { ...defaultNames(), project: options.project });
    let committed = "";
    try {
      committed = readFileSync(path, "utf8");
    } catch {
      // a missing file is stale
    }
    if (options.check) {
      if (committed !== current) {
        console.error(
          `deploy-policy: ${relative(options.root, path)} not current: run npm run deploy-policy and commit`,
        );
        return 1;
      }
      console.log(`deploy-policy: ${relative(options.root, path)} is current`);
      return 0;
    }
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, current);
    const statements = (JSON.parse(current) as { Statement: unknown[] }).Statement.length;
    console.log(`deploy-policy: wrote ${relative(options.root, path)} (${statements} statements)`);
    return 0;
  },
});

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) runCommand(deployPolicyCommand);
