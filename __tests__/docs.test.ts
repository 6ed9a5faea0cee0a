/**
 * The documentation cannot go stale: every fenced shell block of README.md and
 * docs/*.md runs, as written, in a scratch copy of the project, unless its first
 * line says `# skip-docs-test: <reason>` (AWS, Docker, the suites themselves).
 * Every `npm run` script that any block names, skipped or not, must exist.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { runProcess } from "../tools/lib/cli/process.js";
import { PROJECT_ROOT } from "../tools/lib/project.js";
import { cloneWorkingTree } from "./helpers/clone.js";

interface Block {
  file: string;
  line: number;
  code: string;
  skip?: string;
}

const DOCS = [
  "README.md",
  ...readdirSync(join(PROJECT_ROOT, "docs"))
    .filter((f) => f.endsWith(".md"))
    .map((f) => `docs/${f}`),
];
const SKIP = /^# skip-docs-test: (\S.*)$/;

function blocksOf(file: string): Block[] {
  const text = readFileSync(join(PROJECT_ROOT, file), "utf8");
  const blocks: Block[] = [];
  for (const match of text.matchAll(/^```(sh|bash|shell)\n([\s\S]*?)^```$/gm)) {
    const code = match[2];
    const first = code.split("\n")[0];
    blocks.push({
      file,
      line: text.slice(0, match.index).split("\n").length,
      code,
      skip: SKIP.exec(first)?.[1],
    });
  }
  return blocks;
}

const blocks = DOCS.flatMap(blocksOf);
const scripts = (pkg: string) => Object.keys(JSON.parse(readFileSync(join(PROJECT_ROOT, pkg), "utf8")).scripts ?? {});
const ROOT_SCRIPTS = scripts("package.json");
const WORKER_SCRIPTS = scripts("worker-src/package.json");

describe("documented commands", () => {
  it("are found: README and docs hold shell blocks, some of them run here", () => {
    expect(blocks.length).toBeGreaterThan(15);
    expect(blocks.filter((b) => !b.skip).length).toBeGreaterThan(8);
    for (const block of blocks) {
      if (block.code.startsWith("# skip"))
        expect(block.skip, `${block.file}:${block.line}: a skip needs a reason`).toBeTruthy();
    }
  });

  it("name only npm scripts that exist, in skipped blocks too", () => {
    const missing: string[] = [];
    for (const block of blocks) {
      for (const m of block.code.matchAll(/npm (--prefix worker-src )?run (?:-s )?([\w:-]+)/g)) {
        const known = m[1] ? WORKER_SCRIPTS : ROOT_SCRIPTS;
        if (!known.includes(m[2])) missing.push(`${block.file}:${block.line}: npm ${m[1] ?? ""}run ${m[2]}`);
      }
      for (const m of block.code.matchAll(/npm (--prefix worker-src )?(test|start)\b/g)) {
        const known = m[1] ? WORKER_SCRIPTS : ROOT_SCRIPTS;
        if (!known.includes(m[2])) missing.push(`${block.file}:${block.line}: npm ${m[1] ?? ""}${m[2]}`);
      }
    }
    expect(missing).toEqual([]);
  });
});

/**
 * A scratch copy of the working tree (`--base-ref HEAD` is this tree), sharing
 * node_modules and .venv (a block that runs the Python installer finds it current).
 */
let scratch: string;
beforeAll(async () => {
  scratch = await cloneWorkingTree("cricksy-docs-");
}, 120_000);

async function run(code: string): Promise<{ code: number; output: string }> {
  const result = await runProcess("bash", ["-e", "-o", "pipefail", "-c", code], {
    cwd: scratch,
    env: { ...process.env, CI: "true", NO_COLOR: "1" },
    timeoutMs: 300_000,
  });
  return { code: result.code, output: `${result.stdout}${result.stderr}` };
}

for (const file of DOCS) {
  const runnable = blocks.filter((b) => b.file === file && !b.skip);
  // A document without offline shell blocks (only prose, or only skipped blocks) has nothing to run.
  if (runnable.length === 0) continue;
  describe(`${file}: offline shell blocks`, () => {
    it.each(runnable.map((b) => [`line ${b.line}: ${b.code.split("\n")[0]}`, b] as const))(
      "%s",
      async (_name, block) => {
        const result = await run(block.code);
        expect(
          result.code,
          `${block.file}:${block.line} failed:\n${block.code}\n--- output ---\n${result.output.slice(-4000)}`,
        ).toBe(0);
      },
      300_000,
    );
  });
}
