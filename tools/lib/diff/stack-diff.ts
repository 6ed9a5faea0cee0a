/**
 * The static comparison of two synths: which blocks changed (resources and data
 * sources created, destroyed or updated, with attribute paths), variables,
 * outputs, providers, locals, backend, and the security section. cdktf's
 * `${jsonencode(...)}` expressions are decoded first (HashiCorp's grammar), so
 * container definitions and policies compare value by value. What Terraform
 * does about it is change-report.ts's business (a plan); this says what the
 * configuration says.
 */
import { decodeExpressions } from "../stack/hcl.js";
import { proposeMoves } from "../stack/moves.js";
import { type Element, elements, type Json, type StackJson } from "../stack/read.js";
import {
  attachmentKey,
  type Exposure,
  exposureKey,
  type IamStatement,
  type PolicyAttachment,
  ruleKey,
  type SecurityGroupRule,
  securityView,
  statementKey,
} from "./security.js";
import { type AttributeChange, diffValues } from "./values.js";

export type ResourceAction = "create" | "destroy" | "update";

export interface ResourceDiff {
  address: string;
  action: ResourceAction;
  type: string;
  /** Changed attribute paths, for updates. */
  attributes?: AttributeChange[];
}

export interface AddressChange {
  from: string;
  to: string;
  type: string;
}

export interface NamedChange {
  name: string;
  action: ResourceAction;
  attributes?: AttributeChange[];
  old?: Json;
  new?: Json;
}

export interface SecurityDiff {
  statements: { added: IamStatement[]; removed: IamStatement[] };
  attachments: { added: PolicyAttachment[]; removed: PolicyAttachment[] };
  rules: { added: SecurityGroupRule[]; removed: SecurityGroupRule[] };
  exposures: { added: Exposure[]; removed: Exposure[] };
}

export interface StackDiff {
  base: string;
  head: string;
  backend?: { old?: Json; new?: Json; attributes: AttributeChange[] };
  addressChanges: AddressChange[];
  resources: ResourceDiff[];
  variables: NamedChange[];
  outputs: NamedChange[];
  providers: NamedChange[];
  locals: NamedChange[];
  security: SecurityDiff;
  summary: {
    create: number;
    update: number;
    destroy: number;
    addressChanges: number;
    backendChanged: boolean;
    security: number;
    other: number;
    changed: boolean;
  };
}

/** Changes between two blocks of named things (variables, outputs, providers, locals). */
function named(old: object | undefined, next: object | undefined, strip = (v: Json) => v): NamedChange[] {
  const a = (old ?? {}) as Record<string, Json>;
  const b = (next ?? {}) as Record<string, Json>;
  const names = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  return names.flatMap((name): NamedChange[] => {
    if (!(name in a)) return [{ name, action: "create", new: strip(b[name]) }];
    if (!(name in b)) return [{ name, action: "destroy", old: strip(a[name]) }];
    const attributes = diffValues(strip(a[name]), strip(b[name]));
    return attributes.length ? [{ name, action: "update", attributes, old: strip(a[name]), new: strip(b[name]) }] : [];
  });
}

const withoutMeta = (v: Json): Json => {
  if (v && typeof v === "object" && !Array.isArray(v)) {
    const { "//": _meta, ...rest } = v as Record<string, Json>;
    return rest;
  }
  return v;
};

function setDiff<T>(old: T[], next: T[], key: (t: T) => string): { added: T[]; removed: T[] } {
  const a = new Set(old.map(key));
  const b = new Set(next.map(key));
  return { added: next.filter((t) => !a.has(key(t))), removed: old.filter((t) => !b.has(key(t))) };
}

export async function diffStacks(
  base: { source: string; json: StackJson },
  head: { source: string; json: StackJson },
): Promise<StackDiff> {
  const [baseJson, headJson] = await Promise.all([decodeExpressions(base.json), decodeExpressions(head.json)]);
  const a = elements(baseJson);
  const b = elements(headJson);
  const resources: ResourceDiff[] = [];
  for (const [address, element] of b) {
    const before = a.get(address);
    if (!before) {
      resources.push({ address, action: "create", type: element.type });
      continue;
    }
    const attributes = diffValues(before.attributes, element.attributes);
    if (attributes.length) resources.push({ address, action: "update", type: element.type, attributes });
  }
  for (const [address, element] of a) {
    if (!b.has(address)) {
      resources.push({ address, action: "destroy", type: element.type });
    }
  }
  const order = { destroy: 0, create: 1, update: 2 };
  resources.sort((x, y) => order[x.action] - order[y.action] || x.address.localeCompare(y.address));

  const removedElements = resources.filter((r) => r.action === "destroy").map((r) => a.get(r.address) as Element);
  const addedElements = resources.filter((r) => r.action === "create").map((r) => b.get(r.address) as Element);
  const addressChanges: AddressChange[] = proposeMoves(
    removedElements.filter((e) => e.mode === "managed"),
    addedElements.filter((e) => e.mode === "managed"),
  );

  const backendOld = baseJson.terraform?.backend as Json | undefined;
  const backendNew = headJson.terraform?.backend as Json | undefined;
  const backendAttributes = diffValues(backendOld ?? null, backendNew ?? null);
  const backend = backendAttributes.length
    ? { old: backendOld, new: backendNew, attributes: backendAttributes }
    : undefined;

  const sa = securityView(a);
  const sb = securityView(b);
  const security: SecurityDiff = {
    statements: setDiff(sa.statements, sb.statements, statementKey),
    attachments: setDiff(sa.attachments, sb.attachments, attachmentKey),
    rules: setDiff(sa.rules, sb.rules, ruleKey),
    exposures: setDiff(sa.exposures, sb.exposures, exposureKey),
  };

  const providerBlocks = (json: StackJson): Record<string, Json> => ({
    ...Object.fromEntries(Object.entries(json.provider ?? {}).map(([k, v]) => [`provider.${k}`, v])),
    ...Object.fromEntries(
      Object.entries(json.terraform?.required_providers ?? {}).map(([k, v]) => [`required_providers.${k}`, v]),
    ),
    ...(json.terraform?.required_version ? { required_version: json.terraform.required_version as Json } : {}),
  });

  const variables = named(baseJson.variable, headJson.variable);
  const outputs = named(baseJson.output, headJson.output, withoutMeta);
  const providers = named(providerBlocks(baseJson), providerBlocks(headJson));
  const locals = named(baseJson.locals, headJson.locals);

  const count = (action: ResourceAction) => resources.filter((r) => r.action === action).length;
  const securityCount = Object.values(security).reduce((n, d) => n + d.added.length + d.removed.length, 0);
  const other = variables.length + outputs.length + providers.length + locals.length;
  const summary = {
    create: count("create"),
    update: count("update"),
    destroy: count("destroy"),
    addressChanges: addressChanges.length,
    backendChanged: backend !== undefined,
    security: securityCount,
    other,
    changed: false,
  };
  summary.changed = resources.length > 0 || backend !== undefined || other > 0 || securityCount > 0;
  return {
    base: base.source,
    head: head.source,
    backend,
    addressChanges,
    resources,
    variables,
    outputs,
    providers,
    locals,
    security,
    summary,
  };
}
