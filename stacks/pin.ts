import type { TerraformElement } from "cdktf";

/**
 * Gives a Terraform element a fixed logical id, so that its address is
 * `<type>.<logicalId>` wherever the construct sits in the tree.
 *
 * Addresses are the contract with the existing state: without this, an element
 * in a child construct gets an id like `Backend_backend_FE879772`, which plans
 * as a delete and a create. Call it right where the element is made, before
 * anything reads the element's `fqn`.
 */
export function pin<T extends TerraformElement>(element: T, logicalId: string): T {
  element.overrideLogicalId(logicalId);
  return element;
}
