#!/bin/sh
# A stand-in for ffmpeg or ffprobe (WORKER_FFMPEG / WORKER_FFPROBE) that makes a job
# as slow as the test wants, whatever the machine's speed: it records its pid in
# $GATE_DIR/started, waits until the test creates $GATE_DIR/open, then runs the
# real program ($GATE_REAL, default ffmpeg) with the same arguments.
echo "$$" >> "$GATE_DIR/started"
while [ ! -e "$GATE_DIR/open" ]; do sleep 0.05; done
exec "${GATE_REAL:-ffmpeg}" "$@"
