/**
 * The synthesized stack as a graph: resources and data sources as nodes grouped
 * by concern, references between them as edges (through locals), variables
 * listed apart. Made from the synth itself, so the picture cannot drift.
 */
import { elements, type Json, type StackJson } from "../stack/read.js";

export interface GraphNode {
  id: string;
  /** `aws_ecs_service.worker`, `data.aws_iam_policy_document.worker_task` */
  address: string;
  type: string;
  name: string;
  data: boolean;
  group: string;
}

export interface GraphEdge {
  /** The node that refers to another. */
  from: string;
  /** The node referred to. */
  to: string;
}

export interface GraphGroup {
  id: string;
  label: string;
}

export interface StackGraph {
  groups: GraphGroup[];
  nodes: GraphNode[];
  edges: GraphEdge[];
  /** Input variables, with the nodes that read them (directly or through locals). */
  variables: { name: string; usedBy: number }[];
}

/** Concern of each construct of the stack, by its construct path below the stack (the longest match wins). */
const CONCERNS: Record<string, string> = {
  cluster: "cluster",
  "tasks-security-group": "cluster",
  "backend-service": "backend",
  "worker-service": "worker",
  "worker-service/autoscaling": "scaling",
  "task-roles": "iam",
  "video-pipeline-access": "iam",
  "worker-service/task-role": "iam",
  "worker-service/alarms": "alarms",
  "worker-service/alarm-topic": "alarms",
  "worker-service/security-group": "cluster",
};

function concernOf(path: string | undefined): string {
  const parts = path?.split("/").slice(1) ?? [];
  for (let n = parts.length; n > 0; n--) {
    const concern = CONCERNS[parts.slice(0, n).join("/")];
    if (concern) return concern;
  }
  return "other";
}

export const GROUPS: GraphGroup[] = [
  { id: "cluster", label: "Cluster and network" },
  { id: "backend", label: "Backend (API)" },
  { id: "worker", label: "Worker" },
  { id: "scaling", label: "Worker scaling" },
  { id: "iam", label: "IAM" },
  { id: "alarms", label: "Alarms" },
  { id: "data", label: "Data sources" },
  { id: "other", label: "Other" },
];

const nodeId = (address: string) => address.replace(/[^A-Za-z0-9_]/g, "_");

/** Every `type.name`, `data.type.name`, `var.x` and `local.x` that a value refers to. */
export function references(value: Json | undefined): string[] {
  const found = new Set<string>();
  const walk = (v: Json | undefined) => {
    if (typeof v === "string") {
      for (const m of v.matchAll(
        /\b(data\.[a-z0-9_]+\.[A-Za-z0-9_-]+|aws_[a-z0-9_]+\.[A-Za-z0-9_-]+|var\.[A-Za-z0-9_-]+|local\.[A-Za-z0-9_-]+)/g,
      )) {
        found.add(m[1]);
      }
    } else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === "object") Object.values(v).forEach(walk);
  };
  walk(value);
  return [...found].sort();
}

export function stackGraph(stack: StackJson): StackGraph {
  const all = elements(stack);
  const nodes: GraphNode[] = [...all.values()]
    .map((e) => {
      return {
        id: nodeId(e.address),
        address: e.address,
        type: e.type,
        name: e.name,
        data: e.mode === "data",
        group: e.mode === "data" ? "data" : concernOf(e.path),
      };
    })
    .sort((a, b) => a.address.localeCompare(b.address));

  // References through locals resolve to what the locals refer to.
  const locals = stack.locals ?? {};
  const resolve = (ref: string, seen = new Set<string>()): string[] => {
    if (!ref.startsWith("local.")) return [ref];
    const name = ref.slice("local.".length);
    if (seen.has(name) || !(name in locals)) return [];
    seen.add(name);
    return references(locals[name]).flatMap((r) => resolve(r, seen));
  };

  const edges = new Map<string, GraphEdge>();
  const variableUse = new Map<string, Set<string>>(Object.keys(stack.variable ?? {}).map((v) => [v, new Set()]));
  for (const element of all.values()) {
    for (const ref of references(element.attributes as Json).flatMap((r) => resolve(r))) {
      if (ref.startsWith("var.")) {
        variableUse.get(ref.slice(4))?.add(element.address);
        continue;
      }
      const target = all.get(ref);
      if (!target || target.address === element.address) continue;
      const edge = { from: nodeId(element.address), to: nodeId(target.address) };
      edges.set(`${edge.from}->${edge.to}`, edge);
    }
  }
  const used = new Set(nodes.map((n) => n.group));
  return {
    groups: GROUPS.filter((g) => used.has(g.id)),
    nodes,
    edges: [...edges.values()].sort((a, b) => `${a.from}>${a.to}`.localeCompare(`${b.from}>${b.to}`)),
    variables: [...variableUse.entries()]
      .map(([name, users]) => ({ name, usedBy: users.size }))
      .sort((a, b) => a.name.localeCompare(b.name)),
  };
}

/** Mermaid flowchart: subgraphs per concern, dashed data sources, references as arrows. */
export function toMermaid(graph: StackGraph): string {
  const lines = ["flowchart LR"];
  for (const group of graph.groups) {
    lines.push(`  subgraph ${group.id}["${group.label}"]`);
    for (const node of graph.nodes.filter((n) => n.group === group.id)) {
      lines.push(`    ${node.id}${node.data ? `[/"${node.address}"/]` : `["${node.address}"]`}`);
    }
    lines.push("  end");
  }
  lines.push(`  subgraph variables["Input variables (${graph.variables.length})"]`);
  lines.push(`    vars["${graph.variables.map((v) => v.name).join("<br/>")}"]`);
  lines.push("  end");
  for (const edge of graph.edges) lines.push(`  ${edge.from} --> ${edge.to}`);
  return `${lines.join("\n")}\n`;
}
