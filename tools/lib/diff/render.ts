/** The change report as text (terminal), Markdown (pull requests) or JSON (tools). */
import { paint, type Style } from "../cli/colour.js";
import type { Action, ChangeReport, ResourceVerdict } from "./change-report.js";
import type { IamStatement } from "./security.js";
import type { NamedChange } from "./stack-diff.js";
import type { AttributeChange } from "./values.js";

export const FORMATS = ["text", "markdown", "json"] as const;
export type Format = (typeof FORMATS)[number];

const MAX_VALUE = 160;

export function showValue(value: unknown): string {
  if (value === undefined) return "(none)";
  const text = JSON.stringify(value);
  return text.length > MAX_VALUE ? `${text.slice(0, MAX_VALUE - 1)}…` : text;
}

const attributeLine = (c: AttributeChange, indent = "    ") =>
  `${indent}${c.path}: ${showValue(c.old)} → ${c.unknown ? "(known after apply)" : showValue(c.new)}`;
const SIGN = { create: "+", destroy: "-", update: "~" } as const;

/** The sign of a verdict's line: `+ - ~ -/+ +/- →`. */
function signOf(r: ResourceVerdict): string {
  if (r.action === "replace") return r.actions[0] === "create" ? "+/-" : "-/+";
  return { create: "+", update: "~", delete: "-", move: "→", forget: "·" }[r.action];
}

/** A verdict in words: `replace (forced by name)`, `new revision (a replace, forced by ...)`. */
function verdictWords(r: ResourceVerdict): string {
  const forced = r.replacePaths?.length ? `forced by ${r.replacePaths.join(", ")}` : "";
  const moved = r.previousAddress ? `moved from ${r.previousAddress}` : "";
  const words: Record<Action, string> = {
    create: "create",
    update: ["update in place", moved].filter(Boolean).join(", "),
    replace: r.newRevision
      ? `new revision (Terraform replaces it${forced ? `, ${forced}` : ""}; how ${r.type} changes)`
      : `replace (${r.actions[0] === "create" ? "create the new one, then destroy the old one" : "destroy, then create"}${forced ? `, ${forced}` : ""}${moved ? `, ${moved}` : ""})`,
    delete: "delete",
    move: `${moved} (no change)`,
    forget: "forget (removed from the state; the object is kept)",
  };
  return words[r.action];
}

function resourceLines(r: ResourceVerdict): string[] {
  const notes = [
    r.stateful ? `destroys state: ${r.stateful}` : "",
    r.pendingInBase ? "the base plans this too: drift or a change not applied yet" : "",
  ].filter(Boolean);
  const why = [...r.causes, ...(r.cascadeFrom ?? []).map((c) => `cascade from ${c}`)];
  const lines = [
    `${signOf(r)} ${r.address}: ${verdictWords(r)}${notes.length ? `  (${notes.join("; ")})` : ""}${why.length ? `  ← ${why.join(", ")}` : ""}`,
    ...r.attributes.map((c) => attributeLine(c)),
  ];
  if (r.standIn?.length)
    lines.push(`    (against a stand-in value of ${r.standIn.join(", ")}: only AWS knows the real one)`);
  return lines;
}

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
  parts.push(`to ${s.grantedTo}`);
  return `${parts.join(" ")}  [${s.owner}${s.sid ? `, Sid ${s.sid}` : ""}]`;
}

interface Section {
  title: string;
  lines: string[];
}

/** The report as sections of lines with a leading sign (+ - ~ -/+ → !!), shared by text and Markdown. */
function sections(report: ChangeReport): Section[] {
  const out: Section[] = [];
  const alerts: string[] = [];
  if (report.backend) {
    alerts.push(
      "!! Backend changed: Terraform would read and write the state elsewhere (a state move, or a fresh state that recreates everything)",
    );
    alerts.push(...report.backend.attributes.map((c) => attributeLine(c)));
  }
  for (const change of report.addressChanges) {
    alerts.push(`!! Address changed: ${change.from} → ${change.to}`);
    alerts.push(
      `    Terraform deletes ${change.from} and creates ${change.to}; a moved block (cdktf: moveFromId) keeps the object`,
    );
  }
  if (alerts.length) out.push({ title: "Alerts", lines: alerts });

  if (report.resources.length) {
    out.push({ title: "Resources (Terraform's verdicts)", lines: report.resources.flatMap(resourceLines) });
  }
  if (report.cascades.length) {
    out.push({
      title: "Cascades",
      lines: report.cascades.map(
        (c) => `  ${c.from} (${c.action}) → ${c.reaches.map((r) => `${r.address} (${r.action})`).join(", ")}`,
      ),
    });
  }
  const causes = report.causes;
  if (causes.length) {
    out.push({
      title: "Causes (changed outside resources; marked ← on the resources they reach)",
      lines: causes.flatMap((c) => [
        `${SIGN[c.action]} ${c.address}${c.reaches.length ? `  (reaches ${c.reaches.length} changed resource${c.reaches.length === 1 ? "" : "s"})` : "  (no resource changes)"}`,
        ...c.attributes.map((a) => attributeLine(a)),
      ]),
    });
  }
  if (report.withoutEffect.length) {
    out.push({
      title: "Configuration changes without effect (Terraform plans no change)",
      lines: report.withoutEffect.flatMap((w) => [`~ ${w.address}`, ...w.attributes.map((a) => attributeLine(a))]),
    });
  }
  if (report.outputs.length) {
    out.push({
      title: "Outputs",
      lines: report.outputs.flatMap((o) => {
        if (o.action === "definition")
          return [
            `~ ${o.name} (its definition; the value stays)`,
            ...(o.attributes ?? []).map((a) => attributeLine(a)),
          ];
        if (o.action === "create") return [`+ ${o.name}: ${o.unknown ? "(known after apply)" : showValue(o.new)}`];
        if (o.action === "delete") return [`- ${o.name}`];
        return [`~ ${o.name}: ${showValue(o.old)} → ${o.unknown ? "(known after apply)" : showValue(o.new)}`];
      }),
    });
  }
  const namedLines = (changes: NamedChange[]) =>
    changes.flatMap((c) => [`${SIGN[c.action]} ${c.name}`, ...(c.attributes ?? []).map((a) => attributeLine(a))]);
  for (const [title, changes] of [
    ["Variables", report.variables],
    ["Providers", report.providers],
    ["Locals", report.locals],
  ] as const) {
    if (changes.length) out.push({ title, lines: namedLines(changes) });
  }

  const { security } = report;
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
  if (report.couldNotKnow.length && report.summary.changed) {
    out.push({ title: "What the verdicts could not know", lines: report.couldNotKnow.map((n) => `  · ${n}`) });
  }
  return out;
}

const plural = (n: number, word: string, many = `${word}s`) => `${n} ${n === 1 ? word : many}`;

export function summaryLine(report: ChangeReport): string {
  const s = report.summary;
  if (!s.changed) {
    if (report.verdicts.engine === "identical") return "No changes: both synthesize the same infrastructure.";
    return s.withoutEffect
      ? "No changes: Terraform plans none; the configuration changes above have no effect."
      : "No changes: Terraform plans none, and both synthesize the same infrastructure.";
  }
  const replace = s.replace
    ? `${s.replace} to replace${s.newRevision ? ` (${s.newRevision === s.replace ? (s.replace === 1 ? "a new task definition revision" : "new task definition revisions") : `${plural(s.newRevision, "new task definition revision")}`})` : ""}`
    : "0 to replace";
  const parts = [
    `${s.create} to create, ${s.update} to update, ${replace}, ${s.delete} to delete${s.move ? `, ${s.move} moved` : ""}${s.forget ? `, ${s.forget} forgotten` : ""}`,
  ];
  if (s.statefulDestroy) parts.push(plural(s.statefulDestroy, "stateful destroy", "stateful destroys"));
  if (s.addressChanges) parts.push(plural(s.addressChanges, "address change"));
  if (s.backendChanged) parts.push("backend changed");
  parts.push(plural(s.security, "security change"));
  if (s.outputs) parts.push(plural(s.outputs, "output change"));
  if (s.other) parts.push(plural(s.other, "variable or provider change"));
  if (s.withoutEffect) parts.push(`${plural(s.withoutEffect, "configuration change")} without effect`);
  return `Summary: ${parts.join("; ")}`;
}

function verdictsLine(report: ChangeReport): string {
  const v = report.verdicts;
  if (v.engine === "identical") return "Verdicts: none needed (the two synths are the same).";
  const version = v.terraformVersion ? `Terraform ${v.terraformVersion}` : "Terraform";
  return v.against === "state"
    ? `Verdicts: ${version}, terraform plan -refresh=false of the head against the state ${v.state} (offline).`
    : `Verdicts: ${version}, terraform plan -refresh=false of the head against a stand-in state of the base (offline; the base plans No changes against it).`;
}

/** Colour of a line by its sign. */
const STYLES: Record<string, Style> = { "+": "green", "-": "red", "~": "yellow", "!": ["bold", "red"] };

/** The report as text; coloured when `stream` (where it will be written) is a terminal that shows colour. */
export function renderText(report: ChangeReport, stream: NodeJS.WritableStream = process.stdout): string {
  const colour = (line: string) => (STYLES[line[0]] ? paint(STYLES[line[0]], line, stream) : line);
  const lines = [`Stack diff: ${report.base} → ${report.head}`];
  if (report.summary.changed || report.verdicts.engine !== "identical") lines.push(verdictsLine(report));
  for (const section of sections(report)) {
    lines.push("", paint("bold", section.title, stream), ...section.lines.map(colour));
  }
  lines.push("", summaryLine(report));
  return `${lines.join("\n")}\n`;
}

export function renderMarkdown(report: ChangeReport): string {
  const out = ["### Infrastructure diff", "", `\`${report.base}\` → \`${report.head}\``, ""];
  const all = sections(report);
  const alerts = all.find((s) => s.title === "Alerts");
  const destroyed = report.resources.filter((r) => (r.action === "replace" && !r.newRevision) || r.action === "delete");
  if (alerts || destroyed.length) {
    out.push("> [!CAUTION]");
    for (const line of alerts?.lines.filter((l) => l.startsWith("!!")) ?? []) out.push(`> **${line.slice(3)}**  `);
    for (const r of destroyed) {
      out.push(
        `> **${r.action === "replace" ? "Replaces" : "Deletes"} \`${r.address}\`**${r.stateful ? ` (${r.stateful})` : ""}${r.replacePaths?.length ? `: forced by ${r.replacePaths.map((p) => `\`${p}\``).join(", ")}` : ""}  `,
      );
    }
    out.push("");
  }
  out.push(`**${summaryLine(report)}**`, "", `_${verdictsLine(report)}_`, "");
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

/** The report in `format`; text is coloured only when `stream` shows colour (see cli/colour.ts). */
export function render(report: ChangeReport, format: Format, stream: NodeJS.WritableStream = process.stdout): string {
  if (format === "json") return `${JSON.stringify(report, null, 2)}\n`;
  if (format === "markdown") return renderMarkdown(report);
  return renderText(report, stream);
}
