/**
 * Task scale-in protection with a fake clock and a fake ECS agent (unit test):
 * a busy worker's protection always ends within its bound, max(budget, 60 s), and
 * a steady backlog never renews it into an endless protected period (which would
 * stall deployments: ECS stops no protected task). The loopback ECS agent test in
 * worker.test.ts covers the real HTTP calls.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { TaskProtection } from "../src/protection.js";
import { memoryLogger } from "./helpers/memory-log.js";

/** The agent's view: protected until `until` (ms), as ECS would hold it. */
function fakeAgent() {
  const periods: { from: number; until: number }[] = [];
  const fetchImpl = (async (_url: string, init: { body: string }) => {
    const body = JSON.parse(init.body) as { ProtectionEnabled: boolean; ExpiresInMinutes?: number };
    const now = Date.now();
    const current = periods.at(-1);
    if (current && current.until > now) current.until = now; // a new call replaces the state
    if (body.ProtectionEnabled) periods.push({ from: now, until: now + (body.ExpiresInMinutes ?? 120) * 60_000 });
    return new Response(JSON.stringify({ protection: { ProtectionEnabled: body.ProtectionEnabled } }), {
      status: 200,
      headers: { "content-type": "application/json" },
    });
  }) as unknown as typeof fetch;
  return {
    fetchImpl,
    periods,
    protectedAt: (t: number) => periods.some((p) => p.from <= t && t < p.until),
  };
}

/** Seeded job lengths (xorshift32), seconds in [min, max]. */
function lengths(seed: number, min: number, max: number) {
  let state = seed;
  return () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return min + Math.floor((state / 2 ** 32) * (max - min + 1));
  };
}

const MINUTE = 60_000;

describe("TaskProtection", () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_000_000 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const make = (budgetS: number) => {
    const agent = fakeAgent();
    const protection = new TaskProtection({
      agentUri: "http://agent",
      log: memoryLogger().log,
      budgetS,
      fetchImpl: agent.fetchImpl,
    });
    return { agent, protection };
  };

  it.each([
    [1800, 1, 10, 200],
    [1800, 1, 600, 1700],
    [300, 1, 5, 290],
    [90, 7, 1, 80],
    [20, 3, 1, 15],
  ])(
    "budget %i s: one worker under a steady backlog (seed %i, jobs %i-%i s) is protected once, for at most max(budget, 60 s)",
    async (budgetS, seed, min, max) => {
      const { agent, protection } = make(budgetS);
      const next = lengths(seed, min, max);
      const started = Date.now();
      // Concurrency 1, 6 hours of backlog: every receive returns a job, the worker idles only between jobs.
      while (Date.now() - started < 6 * 60 * MINUTE) {
        protection.received(1);
        await protection.busy();
        await vi.advanceTimersByTimeAsync(next() * 1000);
        await protection.idle();
      }
      const bound = Math.max(budgetS, 60) * 1000;
      expect(agent.periods.length).toBe(1);
      for (const p of agent.periods) expect(p.until - p.from).toBeLessThanOrEqual(bound);
      // Past the first bound, the busy task is never protected again: a deployment can stop it.
      for (let t = started + bound; t < Date.now(); t += 1000) expect(agent.protectedAt(t)).toBe(false);
    },
  );

  it("overlapping jobs (concurrency 2, never idle) do not extend the protection", async () => {
    const { agent, protection } = make(600);
    await protection.busy();
    // Jobs keep starting while others run; the consumer calls busy() only on an idle worker, received() on each receive.
    for (let i = 0; i < 500; i++) {
      protection.received(1);
      await vi.advanceTimersByTimeAsync(30_000);
    }
    expect(agent.periods).toEqual([{ from: 1_000_000, until: 1_000_000 + 10 * MINUTE }]);
    expect(protection.isProtected).toBe(false);
  });

  it("protects again after the queue ran dry (an empty receive), each time within the bound, and drops when idle", async () => {
    const { agent, protection } = make(1800);
    for (let round = 0; round < 5; round++) {
      await protection.busy();
      await vi.advanceTimersByTimeAsync(45_000);
      await protection.idle();
      protection.received(0);
      await vi.advanceTimersByTimeAsync(20_000);
    }
    expect(agent.periods).toHaveLength(5);
    for (const p of agent.periods) expect(p.until - p.from).toBe(45_000); // dropped when the job ended
  });

  it("takes no protection after close (shutdown), and drops the one it had", async () => {
    const { agent, protection } = make(1800);
    await protection.busy();
    await protection.close();
    protection.received(0);
    await protection.busy();
    expect(agent.periods).toEqual([{ from: 1_000_000, until: 1_000_000 }]);
  });

  it("asks ECS for the budget in whole minutes, rounded down, at least 1", () => {
    expect(make(1800).protection.expiresInMinutes).toBe(30);
    expect(make(100).protection.expiresInMinutes).toBe(1);
    expect(make(20).protection.expiresInMinutes).toBe(1);
    expect(make(43_000).protection.expiresInMinutes).toBe(716);
  });
});
