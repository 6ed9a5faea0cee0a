/**
 * Timed steps of the long tests: one JSON line per step on stdout (what it was,
 * how long it took), so a run shows its progress and the docs' timings come
 * from real runs.
 */
export async function step<T>(test: string, name: string, work: () => Promise<T>): Promise<T> {
  const started = performance.now();
  try {
    return await work();
  } finally {
    const seconds = Math.round((performance.now() - started) / 100) / 10;
    console.log(
      JSON.stringify({ time: new Date().toISOString(), level: "info", msg: "step", test, step: name, seconds }),
    );
  }
}

/** One JSON line for a fact a run should show (a moto limit met, what was left out). */
export function note(test: string, msg: string, fields: Record<string, unknown> = {}): void {
  console.log(JSON.stringify({ time: new Date().toISOString(), level: "info", msg, test, ...fields }));
}
