import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Emulator, startEmulator, waitFor } from "./helpers/emulator.js";
import { makeVideo } from "./helpers/videos.js";
import { startWorker, type WorkerProcess } from "./helpers/worker-process.js";

describe("a job end to end", () => {
  let emulator: Emulator;
  let worker: WorkerProcess;
  beforeAll(async () => {
    emulator = await startEmulator();
    worker = startWorker({ ...emulator.env, WORKER_CONCURRENCY: "2" });
    await worker.waitForLog((l) => l.msg === "worker started");
  });
  afterAll(async () => {
    await worker?.stop();
    await emulator?.stop();
  });

  it("analyses an uploaded video and writes result.json and keyframe thumbnails", async () => {
    const jobId = "3f8c1a52-6d0e-4b7a-9c2f-1e5d7b9a0c34";
    await emulator.putObject("uploads/match-1.mp4", makeVideo({ seconds: 4, width: 320, height: 240, fps: 25 }));
    await emulator.sendJob({ jobId, videoKey: "uploads/match-1.mp4", uploadedBy: "ignored extra field" });

    const result = await waitFor(() => emulator.getJson(`analysis/${jobId}/result.json`), 30_000, "result.json");
    expect(result).toMatchObject({
      jobId,
      videoKey: "uploads/match-1.mp4",
      status: "succeeded",
      video: { durationSeconds: 4, width: 320, height: 240, fps: 25, codec: "h264", frameCount: 100 },
      attempt: 1,
      worker: { version: "0.1.0" },
    });
    const delivery = result.delivery as string;
    expect(delivery).toMatch(/^[0-9a-f]{8}$/);
    expect(result.thumbnails).toEqual([
      `analysis/${jobId}/${delivery}/keyframe-01.jpg`,
      `analysis/${jobId}/${delivery}/keyframe-02.jpg`,
      `analysis/${jobId}/${delivery}/keyframe-03.jpg`,
    ]);
    expect(await emulator.listKeys(`analysis/${jobId}/`)).toEqual([
      `analysis/${jobId}/${delivery}/keyframe-01.jpg`,
      `analysis/${jobId}/${delivery}/keyframe-02.jpg`,
      `analysis/${jobId}/${delivery}/keyframe-03.jpg`,
      `analysis/${jobId}/outcome.json`,
      `analysis/${jobId}/result.json`,
    ]);
    // result.json is the outcome's copy.
    expect(await emulator.getJson(`analysis/${jobId}/outcome.json`)).toEqual(result);
    expect(Date.parse(result.finishedAt as string)).toBeGreaterThanOrEqual(Date.parse(result.startedAt as string));
    await waitFor(
      async () => {
        const c = await emulator.counts();
        return c.visible === 0 && c.inFlight === 0;
      },
      5000,
      "the message to be deleted",
    );
  });
});
