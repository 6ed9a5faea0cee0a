/**
 * `npm run docs`: writes the generated tables of the documentation, between
 * their markers, from a fresh synth of the working tree (both modes) and from
 * the worker's alarm definitions:
 *
 *   README.md                  INPUTS   the input variables (name, description, type, default)
 *                              OUTPUTS  the outputs, and whether legacy parity has them
 *   docs/worker-operations.md  ALARMS   the worker's alarms: when each fires, what to do
 *                              CREATES  what the worker's operations add to the legacy module
 *
 *   npm run docs                  write the tables
 *   npm run -s docs -- --check    exit 1 when a committed table is not the current one
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { pathToFileURL } from "node:url";
import { App } from "cdktf";
import { ComputeStack } from "../stacks/compute-stack.js";
import { workerAlarmNames } from "../stacks/constructs/worker-alarm-names.js";
import { WORKER_ALARMS } from "../stacks/constructs/worker-alarms.js";
import { SCALE_FROM_ZERO_ALARM } from "../stacks/constructs/worker-autoscaling.js";
import { defineCommand, runCommand } from "./lib/cli/command.js";
import { UsageError } from "./lib/cli/errors.js";
import { PROJECT_ROOT } from "./lib/project.js";
import type { Json, StackJson } from "./lib/stack/read.js";

/** The synthesized stack in both modes: with the worker's operations (the default) and legacy parity. */
export interface Synths {
  operations: StackJson;
  legacyParity: StackJson;
}

/** Synthesizes the stack in process, in both modes. */
export function synthBoth(): Synths {
  const synth = (workerOperations: boolean): StackJson => {
    const outdir = mkdtempSync(join(tmpdir(), "cricksy-docs-"));
    try {
      const app = new App({ outdir });
      new ComputeStack(app, "compute", { workerOperations });
      app.synth();
      return JSON.parse(readFileSync(join(outdir, "stacks", "compute", "cdk.tf.json"), "utf8")) as StackJson;
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  };
  return { operations: synth(true), legacyParity: synth(false) };
}

/** Text for a Markdown table cell: no line breaks, pipes escaped, angle brackets outside code spans shown as text. */
const cell = (text: string) =>
  text
    .replaceAll("\n", " ")
    .replaceAll("|", "\\|")
    .split("`")
    .map((part, i) => (i % 2 ? part : part.replaceAll("<", "&lt;").replaceAll(">", "&gt;")))
    .join("`");
const code = (value: string) => `\`${value.replaceAll("|", "\\|")}\``;
const table = (header: string[], rows: string[][]) =>
  [
    `| ${header.join(" | ")} |`,
    `| ${header.map(() => "---").join(" | ")} |`,
    ...rows.map((r) => `| ${r.join(" | ")} |`),
  ]
    .join("\n")
    .concat("\n");

/** The input variables, required ones first, then by name. */
export function inputsTable(json: StackJson): string {
  const variables = Object.entries(json.variable ?? {}).map(([name, v]) => ({
    name,
    description: String(v.description ?? ""),
    type: String(v.type ?? "any"),
    default: v.default as Json | undefined,
  }));
  variables.sort(
    (a, b) => Number(a.default !== undefined) - Number(b.default !== undefined) || a.name.localeCompare(b.name),
  );
  return table(
    ["Name", "Description", "Type", "Default"],
    variables.map((v) => [
      code(v.name),
      cell(v.description),
      code(v.type),
      v.default === undefined ? "required" : code(JSON.stringify(v.default)),
    ]),
  );
}

/** The outputs by name, and whether the legacy-parity synth has them too. */
export function outputsTable({ operations, legacyParity }: Synths): string {
  const legacy = new Set(Object.keys(legacyParity.output ?? {}));
  return table(
    ["Name", "Description", "In legacy parity"],
    Object.entries(operations.output ?? {})
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, o]) => [code(name), cell(String(o.description ?? "")), legacy.has(name) ? "yes" : "no"]),
  );
}

/** The worker's alarms, from their definitions: the pages, then the scaling action. */
export function alarmsTable(): string {
  return table(
    ["Alarm", "Fires when", "What to do"],
    [...WORKER_ALARMS, SCALE_FROM_ZERO_ALARM].map((alarm) => [
      code(workerAlarmNames("<project>", alarm.key).alarmName),
      cell(alarm.firesWhen),
      cell(alarm.whatToDo),
    ]),
  );
}

/** Managed resources of a synth, as `type.name`. */
const managed = (json: StackJson) =>
  Object.entries(json.resource ?? {}).flatMap(([type, byName]) => Object.keys(byName).map((n) => `${type}.${n}`));

/** What the worker's operations add: managed resources of the default synth that legacy parity does not have. */
export function createsList({ operations, legacyParity }: Synths): string {
  const legacy = new Set(managed(legacyParity));
  const added = managed(operations)
    .filter((address) => !legacy.has(address))
    .sort();
  return `- create: ${added.map(code).join(", ")};\n`;
}

/** A generated part of a file: the text between `<!-- BEGIN_<name> … -->` and `<!-- END_<name> -->`. */
interface Section {
  file: string;
  name: string;
  render: (synths: Synths) => string;
}

export const SECTIONS: Section[] = [
  { file: "README.md", name: "INPUTS", render: ({ operations }) => inputsTable(operations) },
  { file: "README.md", name: "OUTPUTS", render: outputsTable },
  { file: "docs/worker-operations.md", name: "ALARMS", render: alarmsTable },
  { file: "docs/worker-operations.md", name: "CREATES", render: createsList },
];

/** Each file with generated sections: its text now, and with every section current. */
export function generate(root: string, synths: Synths = synthBoth()): { file: string; now: string; current: string }[] {
  const files = [...new Set(SECTIONS.map((s) => s.file))];
  return files.map((file) => {
    const path = join(root, file);
    const now = readFileSync(path, "utf8");
    let current = now;
    for (const section of SECTIONS.filter((s) => s.file === file)) {
      const marked = new RegExp(`(<!-- BEGIN_${section.name}\\b[^>]*-->\\n)[\\s\\S]*?(<!-- END_${section.name} -->)`);
      if (!marked.test(current)) {
        throw new UsageError(
          `${relative(root, path)} has no <!-- BEGIN_${section.name} --> … <!-- END_${section.name} --> markers: put them where the table goes`,
        );
      }
      current = current.replace(marked, (_, begin: string, end: string) => `${begin}${section.render(synths)}${end}`);
    }
    return { file, now, current };
  });
}

export const docsCommand = defineCommand({
  name: "docs",
  summary:
    "Writes the generated tables of the documentation (README inputs and outputs, the worker's alarms and creates) from a fresh synth of the working tree, between their markers.",
  usage: ["[--check] [--root <project folder>]"],
  options: {
    check: { type: "boolean", help: "Exit 1 when a committed table is not the current one (writes nothing)." },
    root: { type: "string", value: "folder", help: "The project folder.", default: PROJECT_ROOT },
  },
  async run(options) {
    const root = options.root;
    const files = generate(root);
    const stale = files.filter((f) => f.now !== f.current).map((f) => f.file);
    if (options.check) {
      if (stale.length) {
        console.error(`docs: ${stale.join(", ")} not current: run npm run docs and commit`);
        return 1;
      }
      console.log(`docs: the generated tables in ${files.map((f) => f.file).join(", ")} are current`);
      return 0;
    }
    for (const { file, current } of files) writeFileSync(join(root, file), current);
    console.log(
      `docs: wrote ${SECTIONS.length} tables in ${files.map((f) => f.file).join(", ")} (${stale.length} changed)`,
    );
    return 0;
  },
});

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) runCommand(docsCommand);
