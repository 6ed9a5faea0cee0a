/**
 * The security-relevant content of a synthesized stack, in comparable form:
 * IAM statements (from aws_iam_policy_document data sources, policy JSON and
 * jsonencode policies alike), managed policy attachments, security group rules
 * (inline, aws_security_group_rule, aws_vpc_security_group_*_rule), and exposure
 * (public IPs, public subnets, ingress from anywhere).
 */
import type { Element, Json } from "../stack/read.js";
import { decodeString } from "./values.js";

export interface IamStatement {
  /** Where the statement is written, e.g. `data.aws_iam_policy_document.task_s3_sqs`, `aws_iam_role.task.assume_role_policy`. */
  owner: string;
  sid?: string;
  effect: string;
  actions: string[];
  notActions: string[];
  resources: string[];
  notResources: string[];
  principals: string[];
  notPrincipals: string[];
  conditions: string[];
}

export interface PolicyAttachment {
  owner: string;
  role: string;
  policyArn: string;
}

export interface SecurityGroupRule {
  owner: string;
  group: string;
  direction: "ingress" | "egress";
  protocol: string;
  ports: string;
  peer: string;
  description?: string;
}

export interface Exposure {
  owner: string;
  what: string;
}

export interface SecurityView {
  statements: IamStatement[];
  attachments: PolicyAttachment[];
  rules: SecurityGroupRule[];
  exposures: Exposure[];
}

const list = (v: unknown): string[] =>
  v === undefined || v === null ? [] : (Array.isArray(v) ? v : [v]).map((x) => String(x)).sort();

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** Where a statement keeps each part: an aws_iam_policy_document block (snake_case) or IAM policy JSON. */
const DOCUMENT_BLOCK = {
  sid: "sid",
  effect: "effect",
  actions: "actions",
  notActions: "not_actions",
  resources: "resources",
  notResources: "not_resources",
  principals: "principals",
  notPrincipals: "not_principals",
  conditions: "condition",
} as const;
const POLICY_JSON = {
  sid: "Sid",
  effect: "Effect",
  actions: "Action",
  notActions: "NotAction",
  resources: "Resource",
  notResources: "NotResource",
  principals: "Principal",
  notPrincipals: "NotPrincipal",
  conditions: "Condition",
} as const;

/** `type:id` of each principal: blocks of `{ type, identifiers }`, or JSON's `"*"` / `{ "AWS": [ids] }`. */
function principalsOf(v: unknown): string[] {
  if (v === "*") return ["*"];
  if (Array.isArray(v)) {
    return v.flatMap((p: Record<string, unknown>) => list(p.identifiers).map((id) => `${p.type}:${id}`)).sort();
  }
  return isObject(v)
    ? Object.entries(v)
        .flatMap(([type, ids]) => list(ids).map((id) => `${type}:${id}`))
        .sort()
    : [];
}

/** `test key = values` of each condition: blocks of `{ test, variable, values }`, or JSON's `{ test: { key: values } }`. */
function conditionsOf(v: unknown): string[] {
  if (Array.isArray(v)) {
    return v.map((c: Record<string, unknown>) => `${c.test} ${c.variable} = ${list(c.values).join(", ")}`).sort();
  }
  if (!isObject(v)) return [];
  return Object.entries(v)
    .flatMap(([test, byKey]) =>
      isObject(byKey)
        ? Object.entries(byKey).map(([key, values]) => `${test} ${key} = ${list(values).join(", ")}`)
        : [],
    )
    .sort();
}

/** A statement, read with the keys of its form (a policy document block or policy JSON). */
function statementOf(
  owner: string,
  s: Record<string, unknown>,
  keys: typeof DOCUMENT_BLOCK | typeof POLICY_JSON,
): IamStatement {
  return {
    owner,
    sid: (s[keys.sid] as string) || undefined,
    effect: (s[keys.effect] as string) ?? "Allow",
    actions: list(s[keys.actions]),
    notActions: list(s[keys.notActions]),
    resources: list(s[keys.resources]),
    notResources: list(s[keys.notResources]),
    principals: principalsOf(s[keys.principals]),
    notPrincipals: principalsOf(s[keys.notPrincipals]),
    conditions: conditionsOf(s[keys.conditions]),
  };
}

/** Attributes that hold a policy document, per resource type (`*` for any type). */
const POLICY_ATTRIBUTES = ["policy", "assume_role_policy"];

function statementsOf(element: Element): IamStatement[] {
  if (element.mode === "data") {
    if (element.type !== "aws_iam_policy_document") return [];
    const blocks = element.attributes.statement;
    return (Array.isArray(blocks) ? blocks : []).map((s) =>
      statementOf(element.address, s as Record<string, unknown>, DOCUMENT_BLOCK),
    );
  }
  const out: IamStatement[] = [];
  const fromValue = (owner: string, value: Json | undefined) => {
    // A JSON string, or a jsonencode(...) expression decoded already (decodeExpressions).
    const document = typeof value === "string" ? decodeString(value) : value;
    if (!isObject(document)) return;
    const statements = Array.isArray(document.Statement) ? document.Statement : [document.Statement];
    for (const s of statements) if (isObject(s)) out.push(statementOf(owner, s, POLICY_JSON));
  };
  for (const attribute of POLICY_ATTRIBUTES)
    fromValue(`${element.address}.${attribute}`, element.attributes[attribute]);
  const inline = element.attributes.inline_policy;
  if (Array.isArray(inline)) {
    inline.forEach((p, k) => {
      if (isObject(p)) fromValue(`${element.address}.inline_policy[${k}]`, p.policy as Json);
    });
  }
  return out;
}

const portRange = (from: unknown, to: unknown, protocol: string) => {
  if (protocol === "all") return "all";
  if (from === undefined || from === null) return "all";
  return String(from) === String(to) ? String(from) : `${from}-${to}`;
};
const protocolName = (p: unknown) => (p === "-1" || p === -1 || p === "all" ? "all" : String(p ?? "all"));

function rulesOf(element: Element): SecurityGroupRule[] {
  const a = element.attributes;
  const out: SecurityGroupRule[] = [];
  const push = (group: string, direction: "ingress" | "egress", r: Record<string, unknown>, peers: string[]) => {
    const protocol = protocolName(r.protocol ?? r.ip_protocol);
    for (const peer of peers) {
      out.push({
        owner: element.address,
        group,
        direction,
        protocol,
        ports: portRange(r.from_port, r.to_port, protocol),
        peer,
        description: (r.description as string) || undefined,
      });
    }
  };
  const peersOfInline = (r: Record<string, unknown>) => [
    ...list(r.cidr_blocks),
    ...list(r.ipv6_cidr_blocks),
    ...list(r.security_groups).map((g) => `sg ${g}`),
    ...list(r.prefix_list_ids).map((p) => `prefix list ${p}`),
    ...(r.self === true ? ["self"] : []),
  ];
  if (element.mode !== "managed") return out;
  if (element.type === "aws_security_group") {
    for (const direction of ["ingress", "egress"] as const) {
      const rules = a[direction];
      for (const r of Array.isArray(rules) ? rules : []) {
        if (isObject(r)) push(element.address, direction, r, peersOfInline(r));
      }
    }
  } else if (element.type === "aws_security_group_rule") {
    const direction = a.type === "egress" ? "egress" : "ingress";
    const peers = [...peersOfInline(a), ...(a.source_security_group_id ? [`sg ${a.source_security_group_id}`] : [])];
    push(String(a.security_group_id), direction, a, peers);
  } else if (
    element.type === "aws_vpc_security_group_ingress_rule" ||
    element.type === "aws_vpc_security_group_egress_rule"
  ) {
    const direction = element.type.includes("ingress") ? "ingress" : "egress";
    const peers = [
      ...list(a.cidr_ipv4),
      ...list(a.cidr_ipv6),
      ...list(a.referenced_security_group_id).map((g) => `sg ${g}`),
      ...list(a.prefix_list_id).map((p) => `prefix list ${p}`),
    ];
    push(String(a.security_group_id), direction, a, peers);
  }
  return out;
}

const ANYWHERE = new Set(["0.0.0.0/0", "::/0"]);

function exposuresOf(element: Element, rules: SecurityGroupRule[]): Exposure[] {
  const a = element.attributes;
  const out: Exposure[] = [];
  const owner = element.address;
  if (element.mode !== "managed") return out;
  const network = a.network_configuration;
  const networks = Array.isArray(network) ? network : network ? [network] : [];
  for (const n of networks) {
    if (isObject(n) && (n.assign_public_ip === true || n.assign_public_ip === "true")) {
      out.push({ owner, what: "tasks get public IP addresses (assign_public_ip = true)" });
    }
  }
  if (element.type === "aws_subnet" && (a.map_public_ip_on_launch === true || a.map_public_ip_on_launch === "true")) {
    out.push({ owner, what: "public subnet (map_public_ip_on_launch = true)" });
  }
  if (a.associate_public_ip_address === true) out.push({ owner, what: "instance with a public IP address" });
  if (a.publicly_accessible === true) out.push({ owner, what: "publicly accessible database" });
  if (element.type === "aws_lb" && a.internal === false) out.push({ owner, what: "internet-facing load balancer" });
  for (const rule of rules) {
    if (rule.direction === "ingress" && ANYWHERE.has(rule.peer)) {
      out.push({ owner, what: `ingress from ${rule.peer}: ${rule.protocol} ${rule.ports}` });
    }
  }
  return out;
}

export function securityView(elements: Map<string, Element>): SecurityView {
  const view: SecurityView = { statements: [], attachments: [], rules: [], exposures: [] };
  for (const element of elements.values()) {
    view.statements.push(...statementsOf(element));
    const rules = rulesOf(element);
    view.rules.push(...rules);
    view.exposures.push(...exposuresOf(element, rules));
    if (element.mode === "managed" && /^aws_iam_(role|user|group)_policy_attachment$/.test(element.type)) {
      const a = element.attributes;
      view.attachments.push({
        owner: element.address,
        role: String(a.role ?? a.user ?? a.group),
        policyArn: String(a.policy_arn),
      });
    }
  }
  return view;
}

/** Identity of a security item for comparing two views. */
export const statementKey = (s: IamStatement) => JSON.stringify(s);
export const ruleKey = (r: SecurityGroupRule) => JSON.stringify({ ...r, description: undefined });
export const exposureKey = (e: Exposure) => JSON.stringify(e);
export const attachmentKey = (p: PolicyAttachment) => JSON.stringify(p);
