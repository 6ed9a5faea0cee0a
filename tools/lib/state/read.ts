/**
 * Terraform states (format version 4, as `terraform state pull` writes them):
 * reading with clear errors, and the addresses they hold.
 */
import { UsageError } from "../cli/errors.js";
import { readJsonFile } from "../cli/input.js";

export interface StateResource {
  module?: string;
  mode: "managed" | "data";
  type: string;
  name: string;
  provider?: string;
  instances: {
    index_key?: string | number;
    schema_version?: number;
    attributes?: Record<string, unknown>;
    sensitive_attributes?: unknown[];
    dependencies?: string[];
  }[];
}

export interface StateFile {
  version: number;
  terraform_version?: string;
  serial?: number;
  lineage?: string;
  resources: StateResource[];
  outputs?: Record<string, { value: unknown; type?: unknown; sensitive?: boolean }>;
}

export function readStateFile(path: string): StateFile {
  const state = readJsonFile(path) as StateFile | null;
  if (state?.version !== 4 || !Array.isArray(state.resources)) {
    throw new UsageError(
      `${path} is not a Terraform state of format version 4 (${state?.version === undefined ? "it has no version" : `found version ${JSON.stringify(state.version)}`}): give what \`terraform state pull\` writes`,
    );
  }
  return state;
}

/** `type.name`, `data.type.name`, with the module's prefix where there is one. */
export const stateAddress = (r: StateResource) =>
  `${r.module ? `${r.module}.` : ""}${r.mode === "data" ? "data." : ""}${r.type}.${r.name}`;

/** The sorted addresses of a state's resources (`managed`), data sources (`data`), or both. */
export function stateAddresses(state: StateFile, mode?: StateResource["mode"]): string[] {
  return state.resources
    .filter((r) => mode === undefined || r.mode === mode)
    .map(stateAddress)
    .sort();
}

/** The account id that the state's `aws_caller_identity` data source recorded, if it has one. */
export function stateAccountId(state: StateFile): string | undefined {
  const caller = state.resources.find((r) => r.mode === "data" && r.type === "aws_caller_identity");
  return caller?.instances[0]?.attributes?.account_id as string | undefined;
}
