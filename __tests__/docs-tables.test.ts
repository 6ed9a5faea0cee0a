/**
 * The generated tables of the documentation (`npm run docs`): made from the synth
 * and from the alarm definitions, and the committed copies are the current ones.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { workerAlarmNames } from "../stacks/constructs/worker-alarm-names.js";
import { WORKER_ALARMS } from "../stacks/constructs/worker-alarms.js";
import { SCALE_FROM_ZERO_ALARM } from "../stacks/constructs/worker-autoscaling.js";
import {
  alarmsTable,
  createsList,
  generate,
  inputsTable,
  outputsTable,
  SECTIONS,
  type Synths,
  synthBoth,
} from "../tools/docs-tables.js";
import { PROJECT_ROOT } from "../tools/lib/project.js";
import { runTool } from "./helpers/cli.js";
import { WORKER_OPERATIONS_RESOURCES } from "./helpers/fixtures.js";

let synths: Synths;
beforeAll(() => {
  synths = synthBoth();
});

/** The body rows of a Markdown table, as cells. */
const rows = (table: string) =>
  table
    .trimEnd()
    .split("\n")
    .slice(2)
    .map((line) =>
      line
        .slice(2, -2)
        .split(/ (?<!\\)\| /)
        .map((c) => c.replace(/^`(.*)`$/, "$1")),
    );

describe("the tables", () => {
  it("list every input of the synth once, required ones first, with its type and default", () => {
    const variables = synths.operations.variable ?? {};
    const table = rows(inputsTable(synths.operations));
    expect(table.map(([name]) => name).sort()).toEqual(Object.keys(variables).sort());
    const required = table.findIndex(([, , , def]) => def !== "required");
    expect(table.slice(required).every(([, , , def]) => def !== "required")).toBe(true);
    for (const [name, , type, def] of table) {
      expect(type, name).toBe(variables[name].type);
      expect(def, name).toBe(
        variables[name].default === undefined ? "required" : JSON.stringify(variables[name].default),
      );
    }
  });

  it("list every output, and say which ones legacy parity has", () => {
    const table = rows(outputsTable(synths));
    expect(table.map(([name]) => name)).toEqual(Object.keys(synths.operations.output ?? {}).sort());
    const legacy = Object.keys(synths.legacyParity.output ?? {});
    for (const [name, , inLegacy] of table) expect(inLegacy, name).toBe(legacy.includes(name) ? "yes" : "no");
  });

  it("list each worker alarm by the name its key gives, then the scale-from-zero alarm", () => {
    const table = rows(alarmsTable());
    expect(table.map(([name]) => name)).toEqual(
      [...WORKER_ALARMS, SCALE_FROM_ZERO_ALARM].map((a) => workerAlarmNames("<project>", a.key).alarmName),
    );
    expect(table[0][2]).toBe(WORKER_ALARMS[0].whatToDo);
  });

  it("list as creates exactly what the state-safety tests expect a plan against production to create", () => {
    const created = [...createsList(synths).matchAll(/`([^`]+)`/g)].map((m) => m[1]);
    expect(created).toEqual([...WORKER_OPERATIONS_RESOURCES].sort());
  });
});

describe("the committed documentation", () => {
  it("holds the current tables (npm run docs)", async () => {
    for (const { file, now, current } of generate(PROJECT_ROOT, synths)) expect(now, file).toBe(current);
    const check = await runTool("docs-tables", ["--check"]);
    expect(check.stderr).toBe("");
    expect(check.code).toBe(0);
  });

  it("fails --check when a table is stale, naming the file, and npm run docs makes it current", async () => {
    // GIVEN a copy of the documented files with one input's row edited by hand
    const root = mkdtempSync(join(tmpdir(), "cricksy-docs-test-"));
    mkdirSync(join(root, "docs"));
    for (const file of new Set(SECTIONS.map((s) => s.file))) copyFileSync(join(PROJECT_ROOT, file), join(root, file));
    const readme = readFileSync(join(root, "README.md"), "utf8");
    writeFileSync(
      join(root, "README.md"),
      readme.replace("| `worker_cpu` | Worker task CPU units |", "| `worker_cpu` | CPU |"),
    );
    // WHEN checked, THEN one line names the stale file and the fix
    const check = await runTool("docs-tables", ["--check", "--root", root]);
    expect(check.code).toBe(1);
    expect(check.stderr).toBe("docs: README.md not current: run npm run docs and commit\n");
    // WHEN written, THEN the file is the committed one again
    const write = await runTool("docs-tables", ["--root", root]);
    expect(write.code).toBe(0);
    expect(readFileSync(join(root, "README.md"), "utf8")).toBe(readme);
  });

  it("says which markers a file lacks", async () => {
    const root = mkdtempSync(join(tmpdir(), "cricksy-docs-test-"));
    mkdirSync(join(root, "docs"));
    writeFileSync(join(root, "README.md"), "# no tables here\n");
    copyFileSync(join(PROJECT_ROOT, "docs", "worker-operations.md"), join(root, "docs", "worker-operations.md"));
    const result = await runTool("docs-tables", ["--check", "--root", root]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      "docs: README.md has no <!-- BEGIN_INPUTS --> … <!-- END_INPUTS --> markers: put them where the table goes\n",
    );
  });
});
