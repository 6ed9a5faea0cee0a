/**
 * The consumer loop against fauxqs (real SQS wire protocol), with handlers whose
 * timing the test controls: slots, heartbeats, timeouts, shutdown, hooks.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Consumer, type ConsumerOptions, type Disposition, type MessageHandler } from "../src/consumer.js";
import { type Emulator, startEmulator, waitFor } from "./helpers/emulator.js";
import { memoryLogger } from "./helpers/memory-log.js";

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      reject(signal.reason);
    });
  });

let emulator: Emulator;
let consumer: Consumer | undefined;
beforeEach(async () => {
  emulator = await startEmulator();
});
afterEach(async () => {
  await consumer?.stop(0);
  consumer = undefined;
  await emulator.stop();
});

function makeConsumer(handler: MessageHandler, options: Partial<ConsumerOptions> = {}) {
  const { log, lines } = memoryLogger();
  consumer = new Consumer({
    sqs: emulator.sqs,
    queueUrl: emulator.queueUrl,
    handler,
    log,
    concurrency: 2,
    visibilityTimeoutS: 30,
    waitTimeS: 1,
    jobTimeoutS: 60,
    retryBaseS: 1,
    retryMaxS: 2,
    ...options,
  });
  const running = consumer.run();
  return { consumer, lines, running };
}

const done: Disposition = { kind: "delete", outcome: "succeeded" };

describe("slots", () => {
  it("never runs more than `concurrency` jobs, and fills a freed slot without waiting for the batch", async () => {
    const events: { body: string; event: "start" | "end"; at: number }[] = [];
    let running = 0;
    let maxRunning = 0;
    makeConsumer(
      async (message) => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        events.push({ body: message.Body as string, event: "start", at: Date.now() });
        await sleep(message.Body === "long" ? 2500 : 200);
        events.push({ body: message.Body as string, event: "end", at: Date.now() });
        running--;
        return done;
      },
      { concurrency: 2 },
    );
    await emulator.sendJob("long");
    await emulator.sendJob("short");
    await waitFor(() => events.filter((e) => e.event === "start").length === 2, 5000, "two jobs to start");
    await emulator.sendJob("next");
    await waitFor(() => events.find((e) => e.body === "long" && e.event === "end"), 10_000, "the long job to end");
    const at = (body: string, event: "start" | "end") =>
      events.find((e) => e.body === body && e.event === event)?.at ?? 0;
    expect(at("next", "start")).toBeGreaterThan(at("short", "end") - 1);
    expect(at("next", "start")).toBeLessThan(at("long", "end"));
    expect(maxRunning).toBe(2);
  });

  it.each([
    [5, 30],
    [25, 100],
  ])(
    "holds exactly %i jobs at once under a backlog of %i (a poller per 10 slots) and deletes every message",
    async (concurrency, count) => {
      let running = 0;
      let maxRunning = 0;
      let finished = 0;
      makeConsumer(
        async () => {
          running++;
          maxRunning = Math.max(maxRunning, running);
          await sleep(300);
          running--;
          finished++;
          return done;
        },
        { concurrency },
      );
      for (let i = 0; i < count; i++) await emulator.sendJob(`job-${i}`);
      await waitFor(() => finished === count, 30_000, `${count} jobs`);
      expect(maxRunning).toBe(concurrency);
      await waitFor(
        async () => {
          const c = await emulator.counts();
          return c.visible + c.inFlight === 0;
        },
        5000,
        "an empty queue",
      );
    },
  );
});

describe("heartbeat", () => {
  it("keeps a job that outlives its visibility timeout invisible, then deletes it", async () => {
    let finished = false;
    const { lines } = makeConsumer(
      async () => {
        await sleep(6000);
        finished = true;
        return done;
      },
      { visibilityTimeoutS: 2 },
    );
    await emulator.sendJob("long job");
    await waitFor(async () => (await emulator.counts()).inFlight === 1, 5000, "the job to be received");
    while (!finished) {
      // Nothing may show up while the job runs, though 2 s pass three times over.
      expect(await emulator.counts()).toEqual({ visible: 0, inFlight: 1 });
      await sleep(400);
    }
    await waitFor(async () => (await emulator.counts()).inFlight === 0, 5000, "the delete");
    expect(await emulator.counts()).toEqual({ visible: 0, inFlight: 0 });
    expect(lines.filter((l) => l.msg === "heartbeat").length).toBeGreaterThanOrEqual(8);
  });
});

describe("time budget", () => {
  it("cancels a job past its budget (its signal aborts) and releases it with a backoff", async () => {
    let aborted: unknown;
    const { lines } = makeConsumer(
      async (_message, { signal }) => {
        await sleep(30_000, signal).catch((reason) => {
          aborted = reason;
          throw reason;
        });
        return done;
      },
      { jobTimeoutS: 1 },
    );
    await emulator.sendJob("slow");
    const line = await waitFor(() => lines.find((l) => l.msg === "job timed out: cancelled and released"), 5000);
    expect((aborted as Error).name).toBe("JobTimeoutError");
    expect(line).toMatchObject({ jobTimeoutS: 1, attempt: 1 });
    // Visible again after the backoff (1-2 s for attempt 1 here), received a second time.
    await waitFor(() => lines.find((l) => l.msg === "job timed out: cancelled and released" && l.attempt === 2), 8000);
  });

  it("settles at the budget even when a handler ignores its signal", async () => {
    const { lines } = makeConsumer(
      async () => {
        await sleep(20_000);
        return done;
      },
      { jobTimeoutS: 1 },
    );
    await emulator.sendJob("stubborn");
    const started = Date.now();
    await waitFor(() => lines.find((l) => l.msg === "job timed out: cancelled and released"), 5000);
    expect(Date.now() - started).toBeLessThan(3000);
  });
});

describe("shutdown", () => {
  it("sends no receive after stop, lets the open one run out and hands back what it got untouched", async () => {
    let handled = 0;
    const { consumer, running, lines } = makeConsumer(
      async () => {
        handled++;
        return done;
      },
      { waitTimeS: 2 },
    );
    await sleep(300);
    const started = Date.now();
    const stopping = consumer.stop(10);
    await emulator.sendJob("arrived during shutdown");
    await stopping;
    await running;
    expect(Date.now() - started).toBeLessThan(2500);
    expect(handled).toBe(0);
    expect(lines.map((l) => l.msg)).toContain("messages received during shutdown released untouched");
    // Visible again at once, for another worker.
    expect(await emulator.peek(emulator.queueUrl)).toEqual([{ body: "arrived during shutdown", receiveCount: 2 }]);
  });

  it("lets jobs in flight finish within the grace period", async () => {
    let finished = 0;
    const { consumer, lines } = makeConsumer(async () => {
      await sleep(1000);
      finished++;
      return done;
    });
    await emulator.sendJob("a");
    await emulator.sendJob("b");
    await waitFor(() => consumer.jobsInFlight === 2, 5000, "two jobs in flight");
    await consumer.stop(10);
    expect(finished).toBe(2);
    await emulator.sendJob("after stop");
    await sleep(1500);
    expect(await emulator.counts()).toEqual({ visible: 1, inFlight: 0 });
    expect(lines.map((l) => l.msg)).toContain("shut down: every job settled");
  });

  it("cancels what outlasts the grace period and releases it for another worker at once", async () => {
    let reason: unknown;
    const { consumer } = makeConsumer(async (_message, { signal }) => {
      await sleep(30_000, signal).catch((r) => {
        reason = r;
      });
      return done;
    });
    await emulator.sendJob("long");
    await waitFor(() => consumer.jobsInFlight === 1, 5000, "the job in flight");
    const started = Date.now();
    await consumer.stop(1);
    expect(Date.now() - started).toBeLessThan(2500); // grace 1 s, open receive at most 1 s
    expect((reason as Error).name).toBe("ShutdownError");
    // Released with visibility 0: another worker can take it right now.
    const again = await emulator.peek(emulator.queueUrl);
    expect(again).toEqual([{ body: "long", receiveCount: 2 }]);
  });
});

describe("hooks", () => {
  it("says busy before the first job starts and idle after the last one is settled", async () => {
    const events: string[] = [];
    makeConsumer(
      async (message) => {
        events.push(`start ${message.Body}`);
        await sleep(200);
        return done;
      },
      {
        onBusy: async () => {
          events.push("busy");
        },
        onIdle: () => events.push("idle"),
        onSettled: (job) => events.push(`settled ${job.outcome}`),
      },
    );
    await emulator.sendJob("one");
    await waitFor(() => events.includes("idle"), 5000, "idle");
    expect(events).toEqual(["busy", "start one", "settled succeeded", "idle"]);
  });
});
