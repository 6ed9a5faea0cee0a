// fauxqs in its own process, so that the benchmark's CPU figures are the consumers' alone.
import { startFauxqs } from "fauxqs";

const server = await startFauxqs({ port: 0, logger: false, defaultRegion: "us-east-2" });
process.stdout.write(`${server.port}\n`);
process.on("SIGTERM", async () => {
  await server.stop();
  process.exit(0);
});
