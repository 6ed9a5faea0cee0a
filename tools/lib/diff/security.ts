/**
 * The security-relevant content of a synthesized stack, in comparable form:
 * IAM statements with whom they are granted to (from aws_iam_policy_document
 * data sources, policy JSON and jsonencode policies alike: a role's inline
 * policies, managed policies through their attachments, trust policies,
 * resource policies), managed policy attachments, security group rules
 * (inline, aws_security_group_rule, aws_vpc_security_group_*_rule), and exposure
 * (public IPs, public subnets, ingress from anywhere). A statement is the same
 * only with the same grantee: a policy moved to another role, or an inline
 * policy removed while its document stays, shows as statements taken away.
 */
import type { Element, Json } from "../stack/read.js";
import { decodeString } from "./values.js";

export interface IamStatement {
  /**
   * Where the statement is written and how it is granted, e.g. `aws_iam_policy.task_s3_sqs ← data.aws_iam_policy_document.task_s3_sqs`,
   * `aws_iam_role.task.assume_role_policy`.
   */
  owner: string;
  /**
   * Whom it is granted to: a role, user or group (`aws_iam_role.task`, or the expression that names it),
   * `trust of aws_iam_role.task` for a trust policy, `resource policy of <address>`, or `not attached` /
   * `not used` for a policy or document that nothing grants.
   */
  grantedTo: string;
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
): Omit<IamStatement, "grantedTo"> {
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

/** The address an expression names when it is exactly one reference: `aws_iam_role.task` of `${aws_iam_role.task.id}`. */
function referenced(value: unknown): string | undefined {
  if (typeof value !== "string") return undefined;
  const match = /^\$\{((?:data\.)?[a-z][a-z0-9_]*\.[\w-]+)(?:\.[\w]+)?\}$/.exec(value.trim());
  return match?.[1];
}

/** Who a reference or literal names: the referenced address, else the value as written. */
const principalOf = (value: unknown) => referenced(value) ?? String(value);

/** Statements of a policy value: a JSON string, a decoded jsonencode value, or a reference to a policy document. */
function statementsOfValue(
  value: Json | undefined,
  owner: string,
  grantedTo: string,
  documents: Map<string, Record<string, unknown>[]>,
): IamStatement[] {
  const document = referenced(value);
  if (document?.startsWith("data.") && documents.has(document)) {
    return (documents.get(document) ?? []).map((s) => ({
      ...statementOf(`${owner} ← ${document}`, s, DOCUMENT_BLOCK),
      grantedTo,
    }));
  }
  const decoded = typeof value === "string" ? decodeString(value) : value;
  if (!isObject(decoded)) return [];
  const statements = Array.isArray(decoded.Statement) ? decoded.Statement : [decoded.Statement];
  return statements.filter(isObject).map((s) => ({ ...statementOf(owner, s, POLICY_JSON), grantedTo }));
}

/** Types whose `policy` grants to a principal named in another attribute. */
const IDENTITY_POLICIES: Record<string, string> = {
  aws_iam_role_policy: "role",
  aws_iam_user_policy: "user",
  aws_iam_group_policy: "group",
};
/** Attachment types and the attribute that names the principal. */
const ATTACHMENTS: Record<string, string> = {
  aws_iam_role_policy_attachment: "role",
  aws_iam_user_policy_attachment: "user",
  aws_iam_group_policy_attachment: "group",
  aws_iam_policy_attachment: "roles",
};

/** Every IAM statement of a stack with its grantee (see IamStatement). */
function statementsOf(elements: Map<string, Element>): IamStatement[] {
  const documents = new Map<string, Record<string, unknown>[]>();
  const usedDocuments = new Set<string>();
  for (const e of elements.values()) {
    if (e.mode === "data" && e.type === "aws_iam_policy_document") {
      const blocks = e.attributes.statement;
      documents.set(e.address, (Array.isArray(blocks) ? blocks : []).filter(isObject) as Record<string, unknown>[]);
    }
  }
  const note = (value: unknown) => {
    const document = referenced(value);
    if (document) usedDocuments.add(document);
  };
  // Managed policies: the principals their attachments name.
  const attachedTo = new Map<string, string[]>();
  for (const e of elements.values()) {
    const attribute = e.mode === "managed" ? ATTACHMENTS[e.type] : undefined;
    if (!attribute) continue;
    const policy = referenced(e.attributes.policy_arn);
    if (!policy) continue;
    const principals = list(e.attributes[attribute]).map(principalOf);
    attachedTo.set(policy, [...(attachedTo.get(policy) ?? []), ...principals]);
  }
  const out: IamStatement[] = [];
  for (const e of elements.values()) {
    if (e.mode !== "managed") continue;
    const a = e.attributes;
    if (IDENTITY_POLICIES[e.type]) {
      note(a.policy);
      out.push(...statementsOfValue(a.policy, e.address, principalOf(a[IDENTITY_POLICIES[e.type]]), documents));
    } else if (e.type === "aws_iam_policy") {
      note(a.policy);
      const grantees = attachedTo.get(e.address) ?? ["not attached"];
      for (const grantee of [...new Set(grantees)].sort()) {
        out.push(...statementsOfValue(a.policy, e.address, grantee, documents));
      }
    } else if (a.policy !== undefined) {
      note(a.policy);
      out.push(...statementsOfValue(a.policy, `${e.address}.policy`, `resource policy of ${e.address}`, documents));
    }
    if (a.assume_role_policy !== undefined) {
      note(a.assume_role_policy);
      out.push(
        ...statementsOfValue(
          a.assume_role_policy,
          `${e.address}.assume_role_policy`,
          `trust of ${e.address}`,
          documents,
        ),
      );
    }
    if (Array.isArray(a.inline_policy)) {
      a.inline_policy.forEach((p, k) => {
        if (isObject(p))
          out.push(...statementsOfValue(p.policy as Json, `${e.address}.inline_policy[${k}]`, e.address, documents));
      });
    }
  }
  for (const [address, statements] of documents) {
    if (usedDocuments.has(address)) continue;
    out.push(...statements.map((s) => ({ ...statementOf(address, s, DOCUMENT_BLOCK), grantedTo: "not used" })));
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
  view.statements.push(...statementsOf(elements));
  for (const element of elements.values()) {
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
