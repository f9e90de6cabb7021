// Time charts on uPlot: series told apart by dash and marker as well as by colour.
const BASELINE = "#1f5fbf";
const CANARY = "#c2410c";
const GUIDE = "#444";

export const style = {
  baseline: { stroke: BASELINE, width: 2 },
  canary: { stroke: CANARY, width: 2, dash: [6, 4], points: { show: true, size: 5 } },
  effect: { stroke: CANARY, width: 2 },
  band: { stroke: "rgba(194,65,12,0.35)", width: 1, dash: [2, 3] },
  forecast: { stroke: "#6d28d9", width: 2, dash: [2, 4] },
  guide: { stroke: GUIDE, width: 1.5, dash: [10, 5] },
  weight: { stroke: "#0f766e", width: 2 },
};

// Rows [[ts, {name: value}], ...] -> uPlot's columns over the union of times.
export function columns(names, byName) {
  const times = new Set();
  for (const name of names) for (const [ts] of byName[name] || []) times.add(ts);
  const xs = [...times].sort((a, b) => a - b);
  const index = new Map(xs.map((t, i) => [t, i]));
  const cols = names.map((name) => {
    const col = new Array(xs.length).fill(null);
    for (const [ts, v] of byName[name] || []) col[index.get(ts)] = v;
    return col;
  });
  return [xs, ...cols];
}

// a chart of one or two points would otherwise stretch its time axis over years
const MIN_SPAN_SECONDS = 60;
const atLeastAMinute = (u, min, max) =>
  min == null || max - min >= MIN_SPAN_SECONDS ? [min, max] : [max - MIN_SPAN_SECONDS, max + 1];

export class TimeChart {
  // series: [{label, ...style}], bands: [[hiIndex, loIndex, fill]], y: {format, range}
  constructor(host, { title, series, bands = [], y = {} }) {
    this.host = host;
    this.names = series.map((s) => s.label);
    const width = Math.max(260, host.clientWidth || 320);
    this.plot = new uPlot({
      title,
      width,
      height: width < 500 ? 180 : 220,
      series: [{}, ...series.map((s) => ({ spanGaps: true, ...s }))],
      bands: bands.map(([hi, lo, fill]) => ({ series: [hi, lo], fill })),
      scales: { x: { time: true, range: atLeastAMinute }, y: y.range ? { range: y.range } : {} },
      axes: [{}, { values: (u, ticks) => ticks.map(y.format || ((v) => v)), size: 60 }],
      legend: { live: width >= 500 },
      cursor: { drag: { x: false, y: false } },
    }, [[], ...series.map(() => [])], host);
    this.resize = new ResizeObserver(() => {
      const w = Math.max(260, host.clientWidth);
      if (Math.abs(w - this.plot.width) > 2) this.plot.setSize({ width: w, height: w < 500 ? 180 : 220 });
    });
    this.resize.observe(host);
  }

  set(data) {
    this.plot.setData(data);
    this.host.dataset.points = String(data[0].length);
  }

  destroy() {
    this.resize.disconnect();
    this.plot.destroy();
  }
}

export const stepped = () => uPlot.paths.stepped({ align: 1 });
