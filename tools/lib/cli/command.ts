/**
 * The project's commands, declared once: their options (with help text,
 * allowed values and defaults) drive `node:util`'s `parseArgs`, the checks of
 * what the user typed and the generated `--help`. How a command ends: the exit
 * code that `run` returns; for a `ToolError` (bad input, a failed terraform) its
 * message on stderr and exit 1; for anything else one line too (a bug: the
 * stack trace only with CRICKSY_DEBUG=1).
 *
 *   runCommand({ name: "graph", summary: "…", usage: ["[options]"], options: { check: { type: "boolean", help: "…" } },
 *                run: async (options) => (options.check ? 0 : 1) });
 */
import { parseArgs } from "node:util";
import { describeError, ToolError, UsageError } from "./errors.js";

export interface OptionSpec {
  /** `string` takes a value, `boolean` is a flag, `list` takes comma-separated values (and may be repeated). */
  type: "string" | "boolean" | "list";
  /** One line for `--help`. */
  help: string;
  /** A one-letter alias: `-h`. */
  short?: string;
  /** A `string` option that may be given more than once; its values are collected in order. */
  multiple?: boolean;
  /** The value's placeholder in `--help`: `--state <file>`. Default: the choices, or `value`. */
  value?: string;
  /** The values allowed (for a `list`, each item's). */
  choices?: readonly string[];
  /** The value when the option is not given. */
  default?: string;
  /** The command cannot run without it. */
  required?: boolean;
}

type Options = Record<string, OptionSpec>;

type ValueOf<S extends OptionSpec> = S["type"] extends "boolean"
  ? boolean
  : S["type"] extends "list"
    ? string[]
    : S["multiple"] extends true
      ? string[]
      : S extends { default: string } | { required: true }
        ? string
        : string | undefined;

/** What `run` receives: each option's value, typed by its declaration. */
export type OptionValues<O extends Options> = { -readonly [K in keyof O]: ValueOf<O[K]> };

export interface CommandSpec<O extends Options> {
  /** The npm script: `state:check` (usage lines read `npm run -s state:check -- …`, errors start `state:check: `). */
  name: string;
  /** What the command does, in a sentence or two. */
  summary: string;
  /** The forms of the command line after `npm run -s <name> --`. */
  usage: string[];
  /** How many positional arguments it takes. Default: none. */
  positionals?: { min: number; max: number };
  options: O;
  /** Text after the options in `--help`: exit codes, notes. */
  details?: string;
  run(options: OptionValues<O>, positionals: string[]): Promise<number>;
}

export interface Command<O extends Options> {
  spec: CommandSpec<O>;
  /** The generated `--help` text. */
  help(): string;
  /** Parses `argv`, checks it and runs the command: the exit code, or an error for the runner to print. */
  main(argv: string[]): Promise<number>;
}

const HELP: OptionSpec = { type: "boolean", short: "h", help: "Show this help and exit." };

/** `text` broken into lines of at most `width` characters (at spaces). */
function wrap(text: string, width = 100): string {
  const lines: string[] = [];
  for (const paragraph of text.split("\n")) {
    let line = "";
    for (const word of paragraph.split(" ")) {
      if (line && line.length + 1 + word.length > width) {
        lines.push(line);
        line = word;
      } else line = line ? `${line} ${word}` : word;
    }
    lines.push(line);
  }
  return lines.join("\n");
}

/** `a, b or c` */
const alternatives = (values: readonly string[]) =>
  values.length > 1 ? `${values.slice(0, -1).join(", ")} or ${values.at(-1)}` : (values[0] ?? "");

function placeholder(spec: OptionSpec): string {
  if (spec.type === "boolean") return "";
  const value = spec.value ?? (spec.choices ? spec.choices.join("|") : "value");
  return spec.type === "list" ? ` <${value},...>` : ` <${value}>`;
}

export function defineCommand<const O extends Options>(spec: CommandSpec<O>): Command<O> {
  const options: Options = { ...spec.options, help: HELP };
  const usageLine = (index = 0) => `npm run -s ${spec.name} -- ${spec.usage[index]}`;

  const help = () => {
    const rows = Object.entries(options).map(([name, o]) => {
      const flag = `${o.short ? `-${o.short}, ` : ""}--${name}${placeholder(o)}`;
      const notes = [
        o.help,
        o.type === "list" && o.choices ? `One or more of: ${o.choices.join(", ")}.` : "",
        o.multiple ? "May be repeated." : "",
        o.required ? "Required." : "",
        o.default !== undefined && o.default !== "" ? `Default: ${o.default}.` : "",
      ].filter(Boolean);
      return [flag, notes.join(" ")] as const;
    });
    const width = Math.max(...rows.map(([flag]) => flag.length)) + 2;
    return [
      ...spec.usage.map((_, i) => `${i === 0 ? "usage: " : "       "}${usageLine(i)}`),
      "",
      wrap(spec.summary),
      "",
      "Options:",
      ...rows.map(([flag, text]) => `  ${flag.padEnd(width)}${text}`),
      ...(spec.details ? ["", wrap(spec.details)] : []),
      "",
    ].join("\n");
  };

  const main = async (argv: string[]) => {
    let parsed: ReturnType<typeof parseArgs>;
    try {
      parsed = parseArgs({
        args: argv,
        allowPositionals: true,
        strict: true,
        options: Object.fromEntries(
          Object.entries(options).map(([name, o]) => [
            name,
            {
              type: o.type === "boolean" ? ("boolean" as const) : ("string" as const),
              multiple: o.type === "list" || o.multiple === true,
              ...(o.short ? { short: o.short } : {}),
            },
          ]),
        ),
      });
    } catch (error) {
      throw new UsageError(`${(error as Error).message}; see --help`, { cause: error });
    }
    if (parsed.values.help) {
      process.stdout.write(help());
      return 0;
    }
    const { min, max } = spec.positionals ?? { min: 0, max: 0 };
    if (parsed.positionals.length > max && max === 0) {
      throw new UsageError(`unexpected argument "${parsed.positionals[0]}"; usage: ${usageLine()}`);
    }
    if (parsed.positionals.length < min || parsed.positionals.length > max) {
      throw new UsageError(`usage: ${usageLine()} (see --help)`);
    }

    const values: Record<string, unknown> = {};
    for (const [name, o] of Object.entries(spec.options)) {
      const given = parsed.values[name] as string | boolean | string[] | undefined;
      if (o.type === "boolean") {
        values[name] = given === true;
        continue;
      }
      if (given === undefined && o.required) throw new UsageError(`--${name} is required; usage: ${usageLine()}`);
      if (o.type === "list") {
        const items = ((given as string[] | undefined) ?? (o.default ? [o.default] : []))
          .flatMap((v) => v.split(","))
          .map((v) => v.trim())
          .filter(Boolean);
        if (given !== undefined && items.length === 0) {
          throw new UsageError(`--${name} needs at least one of ${o.choices?.join(", ") ?? "its values"}`);
        }
        for (const item of items) {
          if (o.choices && !o.choices.includes(item)) {
            throw new UsageError(`--${name} takes ${o.choices.join(", ")}; got "${item}"`);
          }
        }
        values[name] = [...new Set(items)];
        continue;
      }
      const value = (given as string | string[] | undefined) ?? (o.multiple ? [] : o.default);
      for (const v of Array.isArray(value) ? value : value === undefined ? [] : [value]) {
        if (o.choices && !o.choices.includes(v)) {
          throw new UsageError(`--${name} must be ${alternatives(o.choices)}, got "${v}"`);
        }
      }
      values[name] = value;
    }
    return spec.run(values as OptionValues<O>, parsed.positionals);
  };

  return { spec, help, main };
}

/** A whole number of at least `min` from an option's text, or a UsageError naming the option. */
export function wholeNumber(option: string, text: string, min = 0): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n) || n < min) {
    throw new UsageError(`--${option} must be a whole number >= ${min}, got "${text}"`);
  }
  return n;
}

/** Runs a command with this process's arguments and sets the exit code (see the module's comment). */
export function runCommand<const O extends Options>(spec: CommandSpec<O> | Command<O>): void {
  const command = "main" in spec ? spec : defineCommand(spec);
  const name = command.spec.name;
  // Stopped early: exit (as a shell counts a signal), so that temporary folders are removed (cli/temp.ts).
  for (const [signal, number] of [
    ["SIGINT", 2],
    ["SIGTERM", 15],
  ] as const) {
    process.once(signal, () => process.exit(128 + number));
  }
  command.main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      if (error instanceof ToolError) {
        process.stderr.write(`${name}: ${error.message}\n`);
      } else if (process.env.CRICKSY_DEBUG) {
        process.stderr.write(`${name}: ${(error as Error)?.stack ?? String(error)}\n`);
      } else {
        process.stderr.write(
          `${name}: unexpected error (a bug; CRICKSY_DEBUG=1 shows where): ${describeError(error).split("\n")[0]}\n`,
        );
      }
      process.exitCode = 1;
    },
  );
}
