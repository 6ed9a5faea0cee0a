import { TerraformOutput } from "cdktf";
import type { Construct } from "constructs";

/**
 * A module output named `name` wherever its construct sits (`staticId`): output
 * names are part of the legacy module's interface. A map value must be a token
 * (`Token.asAny({...})`): cdktf inspects plain objects with the deprecated `util.isArray`.
 */
export function output(scope: Construct, name: string, description: string, value: unknown): TerraformOutput {
  return new TerraformOutput(scope, name, { description, value, staticId: true });
}
