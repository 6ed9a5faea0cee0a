/**
 * The consumer loop against fauxqs (real SQS wire protocol), with handlers whose
 * timing the test controls: slots, heartbeats, timeouts, shutdown, hooks.
 */
import type { SQSClient } from "@aws-sdk/client-sqs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  Consumer,
  type ConsumerOptions,
  type Disposition,
  type LastFailure,
  type MessageHandler,
} from "../src/consumer.js";
import { WORKER_CONTRACT } from "../src/contract.js";
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

/** The emulator's SQS client, counting the receives open right now and the messages sent. */
function countingReceives(real: SQSClient) {
  const state = {
    open: 0,
    sent: 0,
    client: undefined as unknown as SQSClient,
  };
  state.client = {
    send: async (command: { constructor: { name: string } }, options?: unknown) => {
      const name = command.constructor.name;
      if (name === "SendMessageCommand") state.sent++;
      if (name !== "ReceiveMessageCommand") return real.send(command as never, options as never);
      state.open++;
      try {
        return await real.send(command as never, options as never);
      } finally {
        state.open--;
      }
    },
  } as unknown as SQSClient;
  return state;
}

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
      const { lines } = makeConsumer(
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
      // Pollers never ask for 0 messages (a slot another poller took first): no failed receive.
      expect(lines.filter((l) => l.msg === "receive failed; backing off")).toEqual([]);
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
    const line = await waitFor(() => lines.find((l) => l.msg === "job timed out: cancelled, will retry"), 5000);
    expect((aborted as Error).name).toBe("JobTimeoutError");
    expect(line).toMatchObject({ jobTimeoutS: 1, attempt: 1 });
    // Visible again after the backoff (1-2 s for attempt 1 here), received a second time.
    await waitFor(() => lines.find((l) => l.msg === "job timed out: cancelled, will retry" && l.attempt === 2), 8000);
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
    // The handler would hold the job 20 s; the budget settles it long before (the wait is far below 20 s).
    await waitFor(() => lines.find((l) => l.msg === "job timed out: cancelled, will retry"), 10_000);
  });
});

describe("shutdown", () => {
  it("sends no receive after stop, lets the open one run out and requeues what it got, attempts intact", async () => {
    let handled = 0;
    const sqs = countingReceives(emulator.sqs);
    const { consumer, running, lines } = makeConsumer(
      async () => {
        handled++;
        return done;
      },
      { waitTimeS: 2, sqs: sqs.client },
    );
    await waitFor(() => sqs.open === 1, 5000, "a receive to be open");
    const stopping = consumer.stop(10);
    await emulator.sendJob("arrived during shutdown");
    await stopping;
    await running;
    expect(handled).toBe(0);
    expect(sqs.sent).toBe(1);
    expect(lines.map((l) => l.msg)).toContain("messages received during shutdown requeued untouched");
    // A new copy, visible at once for another worker: that receive spent no attempt.
    expect(await emulator.peek(emulator.queueUrl)).toEqual([
      { body: "arrived during shutdown", receiveCount: 1, attempts: 0 },
    ]);
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

  it("cancels what outlasts the grace period and requeues it for another worker at once, attempts intact", async () => {
    let reason: unknown;
    const { consumer } = makeConsumer(async (_message, { signal }) => {
      await new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason))).catch((r) => {
        reason = r;
      });
      return done;
    });
    // This job already had 2 real attempts before an earlier shutdown gave it back.
    await emulator.sendJob("long", { [WORKER_CONTRACT.queue.attemptsAttribute]: "2" });
    await waitFor(() => consumer.jobsInFlight === 1, 5000, "the job in flight");
    await consumer.stop(1);
    expect((reason as Error).name).toBe("ShutdownError");
    // A new copy, visible now, with the same 2 attempts: the interrupted one is not counted.
    expect(await emulator.peek(emulator.queueUrl)).toEqual([{ body: "long", receiveCount: 1, attempts: 2 }]);
  });

  it("counts the grace period from stop: with 0 a job is cancelled at once, while a receive is still open", async () => {
    const sqs = countingReceives(emulator.sqs);
    let openReceivesAtCancel: number | undefined;
    const { consumer } = makeConsumer(
      async (_message, { signal }) => {
        // Waits on the test: only a cancel ends it.
        await new Promise((_, reject) =>
          signal.addEventListener("abort", () => {
            openReceivesAtCancel = sqs.open;
            reject(signal.reason);
          }),
        );
        return done;
      },
      { concurrency: 2, waitTimeS: 20, sqs: sqs.client },
    );
    await emulator.sendJob("in flight");
    await waitFor(() => consumer.jobsInFlight === 1 && sqs.open === 1, 10_000, "a job in flight and a receive open");
    await consumer.stop(0);
    // Cancelled while the 20 s long poll was open, not after it returned.
    expect(openReceivesAtCancel).toBe(1);
    // The requeued copy may have fallen into that receive, which requeued it once more: attempts still 0.
    expect(await emulator.peek(emulator.queueUrl)).toEqual([{ body: "in flight", receiveCount: 1, attempts: 0 }]);
  });
});

describe("attempts and the last attempt", () => {
  it("tells the handler the real attempt: attempts before the requeue plus the receive count", async () => {
    const attempts: number[] = [];
    makeConsumer(
      async (_message, { attempt, maxAttempts }) => {
        attempts.push(attempt, maxAttempts ?? -1);
        return done;
      },
      { redrive: { maxAttempts: 5, deadLetterQueueUrl: emulator.dlqUrl } },
    );
    await emulator.sendJob("requeued twice before", { [WORKER_CONTRACT.queue.attemptsAttribute]: "3" });
    await waitFor(() => attempts.length === 2, 5000, "the job");
    expect(attempts).toEqual([4, 5]);
  });

  it("on the last attempt, lets giveUp end a failing job (deleted, not dead-lettered)", async () => {
    const failures: { attempt: number; failure: LastFailure }[] = [];
    const { lines } = makeConsumer(async () => ({ kind: "retry", reason: "S3 is throttling", cause: new Error("x") }), {
      redrive: { maxAttempts: 2, deadLetterQueueUrl: emulator.dlqUrl },
      retryBaseS: 0,
      retryMaxS: 0,
      giveUp: async (_message, context, failure) => {
        failures.push({ attempt: context.attempt, failure });
        return { kind: "delete", outcome: "failed" };
      },
      onSettled: (job) => lines.push({ msg: `settled ${job.outcome}`, attempt: job.attempt }),
    });
    await emulator.sendJob("failing job");
    await waitFor(() => failures.length === 1, 10_000, "giveUp");
    expect(failures).toEqual([
      { attempt: 2, failure: { kind: "retry", reason: "S3 is throttling", cause: new Error("x") } },
    ]);
    await waitFor(async () => (await emulator.counts()).inFlight === 0, 5000, "the delete");
    expect(await emulator.counts()).toEqual({ visible: 0, inFlight: 0 });
    expect(await emulator.counts(emulator.dlqUrl)).toEqual({ visible: 0, inFlight: 0 });
  });

  it("moves a message without a job to the dead-letter queue itself on its last real attempt", async () => {
    makeConsumer(async () => ({ kind: "reject", reason: "not JSON" }), {
      redrive: { maxAttempts: 2, deadLetterQueueUrl: emulator.dlqUrl },
      giveUp: async () => undefined,
    });
    // Given back once at shutdown after 1 real attempt: this receive is its 2nd and last.
    await emulator.sendJob("{ not json", { [WORKER_CONTRACT.queue.attemptsAttribute]: "1" });
    const dead = await waitFor(
      async () => {
        const messages = await emulator.peek(emulator.dlqUrl);
        return messages.length > 0 ? messages : undefined;
      },
      10_000,
      "the dead-letter queue",
    );
    // Without the attempts attribute: a replay starts afresh.
    expect(dead).toEqual([{ body: "{ not json", receiveCount: 1, deadLetterReason: "not JSON" }]);
    expect(await emulator.counts()).toEqual({ visible: 0, inFlight: 0 });
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
