/** The stack diff as text (terminal), Markdown (pull requests) or JSON (tools). */
import { paint, type Style } from "../cli/colour.js";
import type { IamStatement } from "./security.js";
import type { NamedChange, StackDiff } from "./stack-diff.js";
import type { AttributeChange } from "./values.js";

export const FORMATS = ["text", "markdown", "json"] as const;
export type Format = (typeof FORMATS)[number];

const MAX_VALUE = 160;

export function showValue(value: unknown): string {
  if (value === undefined) return "(none)";
  const text = JSON.stringify(value);
  return text.length > MAX_VALUE ? `${text.slice(0, MAX_VALUE - 1)}…` : text;
}

const attributeLine = (c: AttributeChange) => `    ${c.path}: ${showValue(c.old)} → ${showValue(c.new)}`;
const sign = { create: "+", destroy: "-", update: "~" } as const;

export function statementText(s: IamStatement): string {
  const actions = s.actions.length ? s.actions.join(", ") : `NOT ${s.notActions.join(", ")}`;
  const resources = s.resources.length
    ? s.resources.join(", ")
    : s.notResources.length
      ? `NOT ${s.notResources.join(", ")}`
      : "";
  const parts = [`${s.effect} ${actions}`];
  if (resources) parts.push(`on ${resources}`);
  if (s.principals.length) parts.push(`for ${s.principals.join(", ")}`);
  if (s.notPrincipals.length) parts.push(`for NOT ${s.notPrincipals.join(", ")}`);
  if (s.conditions.length) parts.push(`when ${s.conditions.join("; ")}`);
  return `${parts.join(" ")}  [${s.owner}${s.sid ? `, Sid ${s.sid}` : ""}]`;
}

/** The diff as lines with a leading sign (+ - ~ !!), shared by text and Markdown. */
function sections(diff: StackDiff): { title: string; lines: string[] }[] {
  const out: { title: string; lines: string[] }[] = [];
  const alerts: string[] = [];
  if (diff.backend) {
    alerts.push(
      "!! Backend changed: Terraform would read and write the state elsewhere (a state move, or a fresh state that recreates everything)",
    );
    alerts.push(...diff.backend.attributes.map(attributeLine));
  }
  for (const change of diff.addressChanges) {
    alerts.push(`!! Address changed: ${change.from} → ${change.to}`);
    alerts.push(
      `    Terraform destroys ${change.from} and creates ${change.to}, unless a moved block keeps the object`,
    );
  }
  if (alerts.length) out.push({ title: "Alerts", lines: alerts });

  const resources = diff.resources.flatMap((r) => [
    `${sign[r.action]} ${r.address}${r.stateful ? `  (destroys state: ${r.stateful})` : ""}`,
    ...(r.attributes ?? []).map(attributeLine),
  ]);
  if (resources.length) out.push({ title: "Resources", lines: resources });

  const namedLines = (changes: NamedChange[]) =>
    changes.flatMap((c) => [`${sign[c.action]} ${c.name}`, ...(c.attributes ?? []).map(attributeLine)]);
  for (const [title, changes] of [
    ["Variables", diff.variables],
    ["Outputs", diff.outputs],
    ["Providers", diff.providers],
    ["Locals", diff.locals],
  ] as const) {
    if (changes.length) out.push({ title, lines: namedLines(changes) });
  }

  const { security } = diff;
  const pm = <T>(d: { added: T[]; removed: T[] }, show: (t: T) => string) => [
    ...d.removed.map((t) => `- ${show(t)}`),
    ...d.added.map((t) => `+ ${show(t)}`),
  ];
  const iam = pm(security.statements, statementText);
  const attachments = pm(security.attachments, (a) => `${a.policyArn} to ${a.role}  [${a.owner}]`);
  const rules = pm(
    security.rules,
    (r) =>
      `${r.direction} ${r.protocol} ${r.ports} ${r.direction === "ingress" ? "from" : "to"} ${r.peer}  [${r.group}]`,
  );
  const exposures = pm(security.exposures, (e) => `${e.what}  [${e.owner}]`);
  if (iam.length) out.push({ title: "Security: IAM statements", lines: iam });
  if (attachments.length) out.push({ title: "Security: IAM policy attachments", lines: attachments });
  if (rules.length) out.push({ title: "Security: security group rules", lines: rules });
  if (exposures.length) out.push({ title: "Security: exposure", lines: exposures });
  return out;
}

export function summaryLine(diff: StackDiff): string {
  const s = diff.summary;
  if (!s.changed) return "No changes: both synthesize the same infrastructure.";
  const parts = [`${s.create} to create, ${s.update} to update, ${s.destroy} to destroy`];
  if (s.statefulDestroy) parts.push(`${s.statefulDestroy} stateful destroy${s.statefulDestroy > 1 ? "s" : ""}`);
  if (s.addressChanges) parts.push(`${s.addressChanges} address change${s.addressChanges > 1 ? "s" : ""}`);
  if (s.backendChanged) parts.push("backend changed");
  parts.push(`${s.security} security change${s.security === 1 ? "" : "s"}`);
  if (s.other) parts.push(`${s.other} variable/output/provider/local change${s.other === 1 ? "" : "s"}`);
  return `Summary: ${parts.join("; ")}`;
}

/** Colour of a line by its sign. */
const STYLES: Record<string, Style> = { "+": "green", "-": "red", "~": "yellow", "!": ["bold", "red"] };

/** The diff as text; coloured when `stream` (where it will be written) is a terminal that shows colour. */
export function renderText(diff: StackDiff, stream: NodeJS.WritableStream = process.stdout): string {
  const colour = (line: string) => (STYLES[line[0]] ? paint(STYLES[line[0]], line, stream) : line);
  const lines = [`Stack diff: ${diff.base} → ${diff.head}`];
  for (const section of sections(diff)) {
    lines.push("", paint("bold", section.title, stream), ...section.lines.map(colour));
  }
  lines.push("", summaryLine(diff));
  return `${lines.join("\n")}\n`;
}

export function renderMarkdown(diff: StackDiff): string {
  const out = ["### Infrastructure diff", "", `\`${diff.base}\` → \`${diff.head}\``, ""];
  const all = sections(diff);
  const alerts = all.find((s) => s.title === "Alerts");
  if (alerts) {
    out.push("> [!CAUTION]");
    for (const line of alerts.lines.filter((l) => l.startsWith("!!"))) out.push(`> **${line.slice(3)}**  `);
    out.push("");
  }
  out.push(`**${summaryLine(diff)}**`, "");
  for (const section of all.filter((s) => s !== alerts)) {
    out.push(
      `#### ${section.title}`,
      "",
      "```diff",
      ...section.lines.map((l) => (l.startsWith("~") ? `! ${l.slice(2)}` : l)),
      "```",
      "",
    );
  }
  return `${out.join("\n")}\n`;
}

/** The diff in `format`; text is coloured only when `stream` shows colour (see cli/colour.ts). */
export function render(diff: StackDiff, format: Format, stream: NodeJS.WritableStream = process.stdout): string {
  if (format === "json") return `${JSON.stringify(diff, null, 2)}\n`;
  if (format === "markdown") return renderMarkdown(diff);
  return renderText(diff, stream);
}
