// Owns reporting a measured process's memory: preloaded (node --require) into the process the memory bench spawns,
// it samples where the memory is every 50 ms and, at exit, writes peak RSS, those peaks and CPU time as JSON to
// the file named by BENCH_PEAK_OUT. CommonJS so it runs before any loader, and touches nothing else.
'use strict';
const { writeFileSync } = require('node:fs');

const out = process.env.BENCH_PEAK_OUT;
if (out) {
  const peaks = { heapUsed: 0, heapTotal: 0, external: 0, arrayBuffers: 0, rss: 0 };
  const t0 = performance.now();
  const sample = () => {
    const m = process.memoryUsage();
    for (const k of Object.keys(peaks)) peaks[k] = Math.max(peaks[k], Math.round(m[k] / 2 ** 20));
  };
  setInterval(sample, 50).unref();
  process.on('exit', () => {
    sample();
    const cpu = process.cpuUsage();
    writeFileSync(
      out,
      JSON.stringify({
        // getrusage's ru_maxrss: the true peak, not just the 50 ms samples.
        peakRssMB: Math.round(process.resourceUsage().maxRSS / 102.4) / 10,
        seconds: (performance.now() - t0) / 1000,
        cpuSeconds: Math.round((cpu.user + cpu.system) / 1e4) / 100,
        memoryPeaksMB: peaks,
      }),
    );
  });
}
