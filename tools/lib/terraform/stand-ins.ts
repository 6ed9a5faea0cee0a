/**
 * Stand-ins: deterministic values for what Terraform only knows after apply
 * (ids, ARNs, other computed attributes), for a state that stands for a
 * configuration nobody applied (base-state.ts). Each one is a function of the
 * resource's address, the attribute path and the plan's account and region, so
 * that two runs on the same configuration build the same state, and a
 * reference to a computed attribute can be given its value before any plan.
 *
 * - `arn` and `*_arn`: ARN-shaped, `arn:<partition>:<service>:<region>:<account>:<kind>/stand-in-<name>`
 *   (the service and kind from the type name; no region for IAM), so that
 *   attributes the provider validates as ARNs accept them;
 * - `id`: the resource's `name` where it has one (what many types use as id;
 *   some attributes must not be given an ARN), else ARN-shaped;
 * - other computed-only strings: `stand-in-<name>-<path>`;
 * - attributes that are optional and computed (AWS fills them when the
 *   configuration leaves them out): the empty value of their type, closest to
 *   what the provider records for most of them;
 * - numbers 0, booleans false, collections empty.
 */
import { attributeAt, type BlockSchema, type CtyType } from "./schema.js";

export interface StandInContext {
  /** The region the provider plans in. */
  region: string;
  /** The account that STS reports. */
  accountId: string;
  /** Default: aws. */
  partition?: string;
}

/** `ecs` of `aws_ecs_service`, `cloudwatch` of `aws_cloudwatch_log_group`. */
const serviceOf = (type: string) => type.replace(/^[a-z0-9]+_/, "").split("_")[0] || type;
/** `service` of `aws_ecs_service`, `log-group` of `aws_cloudwatch_log_group`. */
const kindOf = (type: string) => (type.replace(/^[a-z0-9]+_[a-z0-9]+_?/, "") || serviceOf(type)).replaceAll("_", "-");

/** The stand-in ARN of a resource's `arn` (or `<x>_arn`) attribute. */
export function standInArn(type: string, name: string, attribute: string, ctx: StandInContext): string {
  const service = serviceOf(type);
  const region = service === "iam" ? "" : ctx.region;
  const suffix = attribute === "arn" ? "" : `-${attribute.replace(/_arn$/, "")}`;
  return `arn:${ctx.partition ?? "aws"}:${service}:${region}:${ctx.accountId}:${kindOf(type)}/stand-in-${name}${suffix}`;
}

const isArnName = (attribute: string) => attribute === "arn" || attribute.endsWith("_arn");

/** The empty value of a type: "" 0 false [] {} (objects with each attribute empty). */
export function emptyValue(type: CtyType): unknown {
  if (type === "string") return "";
  if (type === "number") return 0;
  if (type === "bool") return false;
  if (Array.isArray(type)) {
    const [kind, inner] = type;
    if (kind === "list" || kind === "set" || kind === "tuple") return [];
    if (kind === "map") return {};
    if (kind === "object" && inner && typeof inner === "object" && !Array.isArray(inner)) {
      return Object.fromEntries(Object.entries(inner).map(([k, t]) => [k, emptyValue(t)]));
    }
  }
  return null;
}

export interface ResourceRef {
  type: string;
  name: string;
  /** The resource's own `name` value, where it is known. */
  knownName?: unknown;
}

/**
 * The stand-in of one attribute path (`["id"]`, `["network_configuration", "security_groups"]`)
 * of a resource, by the resource type's schema.
 */
export function standInFor(
  resource: ResourceRef,
  path: string[],
  schema: BlockSchema | undefined,
  ctx: StandInContext,
): unknown {
  const attribute = path.at(-1) ?? "";
  const spec = schema ? attributeAt(schema, path) : undefined;
  const type = spec?.type ?? (isArnName(attribute) || attribute === "id" ? "string" : undefined);
  if (type === undefined) {
    // A nested block (or something the schema does not know): no block yet.
    return schema && pathIsBlock(schema, path) ? [] : null;
  }
  if (type !== "string") return emptyValue(type);
  if (path.length === 1 && attribute === "id") {
    return typeof resource.knownName === "string" && resource.knownName
      ? resource.knownName
      : standInArn(resource.type, resource.name, "arn", ctx);
  }
  if (isArnName(attribute)) return standInArn(resource.type, resource.name, attribute, ctx);
  if (spec?.optional) return "";
  return `stand-in-${resource.name}-${path.join("-")}`;
}

function pathIsBlock(schema: BlockSchema, path: string[]): boolean {
  let current: BlockSchema | undefined = schema;
  for (const name of path) {
    const nested: { block: BlockSchema } | undefined = current?.blocks[name];
    if (!nested) return false;
    current = nested.block;
  }
  return true;
}
