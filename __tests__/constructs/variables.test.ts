/** ComputeVariables: the VARIABLES table, declared as Terraform variables, and the typed inputs. */
import { TerraformOutput, TerraformStack, Testing, Token } from "cdktf";
import { beforeAll, describe, expect, test } from "vitest";
import { ComputeVariables, VARIABLES } from "../../stacks/variables.js";
import type { SynthJson } from "../helpers/synth.js";
import { synth } from "./testing.js";

let json: SynthJson;
let variables: ComputeVariables;
beforeAll(() => {
  // GIVEN a stack WHEN the variables are declared, and every input is read into an output
  const stack = new TerraformStack(Testing.app(), "test");
  variables = new ComputeVariables(stack, "variables");
  new TerraformOutput(stack, "inputs", { value: Token.asAny(variables.inputs) });
  json = synth(stack).json;
});

const rows = Object.entries(VARIABLES);

describe("each row of VARIABLES", () => {
  test.each(rows)("%s is declared under its own name, with the row's type, default and description", (name, row) => {
    const declared = json.variable[name];
    expect(declared).toMatchObject({ type: row.type, description: row.description });
    expect(declared.default).toEqual("default" in row ? row.default : undefined);
  });

  test.each(rows.filter(([, row]) => "validation" in row))(
    "%s: each validation checks this variable and names it in its message",
    (name) => {
      const validations = json.variable[name].validation as { condition: string; error_message: string }[];
      expect(validations.length).toBeGreaterThan(0);
      for (const { condition, error_message } of validations) {
        expect(condition).toMatch(new RegExp(`\\bvar\\.${name}\\b`));
        expect(error_message.startsWith(`${name} `)).toBe(true);
      }
    },
  );

  test("and nothing else is declared", () => {
    expect(Object.keys(json.variable).sort()).toEqual(rows.map(([name]) => name).sort());
  });
});

describe("inputs", () => {
  test("reads each variable as var.<name>", () => {
    const inputs = json.output.inputs.value as unknown as Record<string, unknown>;
    expect(inputs).toEqual(Object.fromEntries(rows.map(([name]) => [name, `\${var.${name}}`])));
  });

  test("is typed by the row: a number, a list or a string", () => {
    expect(Token.isUnresolved(variables.inputs.worker_cpu)).toBe(true);
    expect(typeof variables.inputs.worker_cpu).toBe("number");
    expect(Array.isArray(variables.inputs.private_subnet_ids)).toBe(true);
    expect(typeof variables.inputs.aws_region).toBe("string");
  });
});
