/**
 * The commands' plumbing: options declared once give `--help` and the checks of
 * what the user typed; bad input is one line and exit 1; the process runner
 * says when a program cannot start. (Colour, which only the diff's text has, is
 * tested end to end in diff.test.ts.)
 */
import { describe, expect, it } from "vitest";
import { defineCommand, wholeNumber } from "../tools/lib/cli/command.js";
import { ProcessError, ToolError, UsageError } from "../tools/lib/cli/errors.js";
import { runProcess } from "../tools/lib/cli/process.js";
import { runTool } from "./helpers/cli.js";

const command = defineCommand({
  name: "example",
  summary: "An example command.",
  usage: ["--state <file> [options]"],
  positionals: { min: 0, max: 1 },
  options: {
    state: { type: "string", value: "file", required: true, help: "The state." },
    format: { type: "string", choices: ["text", "json"], default: "text", help: "Output format." },
    "fail-on": { type: "list", value: "kind", choices: ["destroy", "security"], help: "Kinds that fail." },
    var: { type: "string", value: "name=value", multiple: true, help: "A variable." },
    plan: { type: "boolean", help: "Plan too." },
  },
  details: "Exit 0 when fine.",
  run: async (options, positionals) => {
    received = { options, positionals };
    return 0;
  },
});
let received: unknown;

describe("a command declared once", () => {
  it("generates --help from its options: placeholders, choices, defaults, repeats, requirements", () => {
    expect(command.help()).toBe(
      [
        "usage: npm run -s example -- --state <file> [options]",
        "",
        "An example command.",
        "",
        "Options:",
        "  --state <file>        The state. Required.",
        "  --format <text|json>  Output format. Default: text.",
        "  --fail-on <kind,...>  Kinds that fail. One or more of: destroy, security.",
        "  --var <name=value>    A variable. May be repeated.",
        "  --plan                Plan too.",
        "  -h, --help            Show this help and exit.",
        "",
        "Exit 0 when fine.",
        "",
      ].join("\n"),
    );
  });

  it("gives run the typed values, with defaults, lists split and repeated options collected", async () => {
    await command.main(["--state", "s", "--fail-on", "destroy,security", "--fail-on", "destroy", "--var", "a=1"]);
    expect(received).toEqual({
      options: { state: "s", format: "text", "fail-on": ["destroy", "security"], var: ["a=1"], plan: false },
      positionals: [],
    });
  });

  it.each([
    [[], "--state is required; usage: npm run -s example -- --state <file> [options]"],
    [["--state", "s", "--format", "yaml"], '--format must be text or json, got "yaml"'],
    [["--state", "s", "--fail-on", "destroy,everything"], '--fail-on takes destroy, security; got "everything"'],
    [["--state", "s", "--fail-on", ""], "--fail-on needs at least one of destroy, security"],
    [["--state", "s", "a", "b"], "usage: npm run -s example -- --state <file> [options] (see --help)"],
    [["--state", "s", "--colour"], /^Unknown option '--colour'.*; see --help$/],
    [["--state"], /^Option '--state <value>' argument missing; see --help$/],
  ])("rejects %j with a UsageError of one line", async (argv, message) => {
    const error = await command.main(argv).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    if (typeof message === "string") expect((error as Error).message).toBe(message);
    else expect((error as Error).message).toMatch(message);
  });

  it("reads whole numbers, or names the option", () => {
    expect(wholeNumber("runs", "5", 1)).toBe(5);
    expect(() => wholeNumber("runs", "1.5", 1)).toThrow('--runs must be a whole number >= 1, got "1.5"');
  });
});

describe("every command", () => {
  it.each(["diff", "state-check", "baseline", "graph", "dlq-replay", "bench-synth"])(
    "%s prints its generated help and exits 0",
    async (tool) => {
      const result = await runTool(tool, ["--help"]);
      expect(result.stderr).toBe("");
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/^usage: npm run -s [\w:]+ -- /);
      expect(result.stdout).toContain("\n  -h, --help ");
    },
  );
});

describe("the process runner", () => {
  it("returns the exit code and output of a program", async () => {
    const result = await runProcess("git", ["--version"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^git version /);
  });

  it("says so when a program cannot start: a ProcessError (a ToolError) with the cause", async () => {
    const error = (await runProcess("no-such-program-here", []).catch((e: unknown) => e)) as ProcessError;
    expect(error).toBeInstanceOf(ProcessError);
    expect(error).toBeInstanceOf(ToolError);
    expect(error.message).toBe("no-such-program-here is not installed or not on PATH");
    expect((error.cause as NodeJS.ErrnoException).code).toBe("ENOENT");
  });
});
