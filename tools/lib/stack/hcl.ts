/**
 * HCL read with HashiCorp's own grammar: `@cdktf/hcl2json` (hcl2json built on
 * hashicorp/hcl, compiled to WebAssembly, shipped with cdktf-cli). Two uses:
 *
 * - the expressions cdktf writes for `Fn.jsonencode(...)`, e.g.
 *   `${jsonencode([{"name" = "worker", "image" = var.worker_image}])}`, read as
 *   plain values so that container definitions and policies compare structurally;
 *   references, function calls and other non-literal expressions come back as
 *   `${...}` strings, as Terraform's JSON syntax writes them;
 * - `.tfvars` and `.tf` files (the offline harness reads the inputs of a plan).
 *
 * The API is asynchronous (the WebAssembly module runs behind a promise). Cost,
 * measured on the 2-core development machine: about 120 ms once per process to
 * load the module (on first use), then 5-15 ms per expression;
 * `decodeExpressions` parses each distinct expression once per process.
 */
import { UsageError } from "../cli/errors.js";

/** hcl2json, loaded on first use: importing it reads and compiles its WebAssembly module. */
let hcl2json: Promise<typeof import("@cdktf/hcl2json")> | undefined;
const parse = async (filename: string, text: string): Promise<Record<string, unknown>> => {
  hcl2json ??= import("@cdktf/hcl2json");
  return (await hcl2json).parse(filename, text);
};

const JSONENCODE = /^\$\{jsonencode\(([\s\S]*)\)\}$/;

/** Parses HCL text (a `.tf` or `.tfvars` file) into hcl2json's JSON form; a UsageError naming `filename` when it is not HCL. */
export async function parseHcl(text: string, filename: string): Promise<Record<string, unknown>> {
  try {
    return await parse(filename, text);
  } catch (error) {
    const first = String((error as Error).message ?? error).split("\n")[0];
    throw new UsageError(`${filename} is not valid HCL: ${first}`, { cause: error });
  }
}

const decoded = new Map<string, Promise<unknown>>();

/** The value inside `${jsonencode(...)}`, or undefined when the string is something else (or not valid HCL). */
export function decodeJsonencode(text: string): Promise<unknown> {
  const inner = JSONENCODE.exec(text.trim())?.[1];
  if (inner === undefined) return Promise.resolve(undefined);
  let value = decoded.get(inner);
  if (!value) {
    value = parse("jsonencode.tf", `value = ${inner}\n`).then(
      (body) => (body as { value?: unknown }).value,
      () => undefined,
    );
    decoded.set(inner, value);
  }
  return value;
}

/**
 * A copy of `value` in which every string that is a `${jsonencode(...)}`
 * expression is replaced by the value it encodes (at any depth, also inside
 * decoded values). Everything else is kept as it is.
 */
export async function decodeExpressions<T>(value: T): Promise<T> {
  const walk = async (v: unknown): Promise<unknown> => {
    if (typeof v === "string") {
      const inner = await decodeJsonencode(v);
      return inner === undefined ? v : walk(inner);
    }
    if (Array.isArray(v)) return Promise.all(v.map(walk));
    if (v && typeof v === "object") {
      const entries = await Promise.all(Object.entries(v).map(async ([k, x]) => [k, await walk(x)] as const));
      return Object.fromEntries(entries);
    }
    return v;
  };
  return (await walk(value)) as T;
}
