/**
 * The console's only script, run in the browser. It is written here as one self-contained function (no
 * imports, no outer names) and served as its source text, so it is type-checked with the rest and needs no
 * build step. It: asks before actions marked `data-confirm`; draws the metric chart with uPlot; keeps a
 * log table live (`data-tail`) and a convergence table fresh (`data-live-convergence`) by polling the
 * console's own partial pages.
 */
export function consoleClient(): void {
  const poll = (element: Element, url: string, every: number, done?: () => boolean) => {
    const tick = async () => {
      if (done?.()) return;
      try {
        const response = await fetch(url, { credentials: "same-origin", headers: { accept: "text/html" } });
        if (response.ok) element.innerHTML = await response.text();
      } catch {
        // The next tick tries again: a console left open survives a mixer restart.
      }
      setTimeout(tick, every);
    };
    setTimeout(tick, every);
  };

  for (const form of document.querySelectorAll<HTMLFormElement>("form[data-confirm]")) {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm ?? "Are you sure?")) event.preventDefault();
    });
  }

  const tailBox = document.querySelector<HTMLInputElement>("input[data-live-tail]");
  const tail = document.querySelector<HTMLElement>("tbody[data-tail]");
  if (tailBox && tail?.dataset.tail) {
    const url = tail.dataset.tail;
    tailBox.addEventListener("change", () => {
      if (tailBox.checked) poll(tail, url, 2000, () => !tailBox.checked);
    });
  }

  const live = document.querySelector<HTMLElement>("[data-live-convergence]");
  if (live?.dataset.liveConvergence) {
    const url = live.dataset.liveConvergence;
    poll(live, url, 1500, () => live.querySelector('[data-settled="true"]') !== null);
  }

  const chart = document.getElementById("chart");
  const source = document.getElementById("chart-data");
  const uPlot = (
    window as unknown as {
      uPlot?: (new (...args: unknown[]) => unknown) & { tzDate(date: Date, zone: string): Date };
    }
  ).uPlot;
  if (chart && source && uPlot) {
    const data = JSON.parse(source.textContent ?? "{}") as {
      x: number[];
      series: { label: string; values: (number | null)[] }[];
    };
    const colours = ["#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#4b5563"];
    new uPlot(
      {
        width: Math.max(320, chart.clientWidth),
        height: 320,
        series: [
          {},
          ...data.series.map((series, i) => ({
            label: series.label,
            stroke: colours[i % colours.length],
            width: 1.5,
            spanGaps: false,
          })),
        ],
        axes: [{}, { size: 70 }],
        // The console speaks UTC everywhere (the header says so), whatever the browser's zone.
        tzDate: (ts: number) => uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"),
      },
      [data.x, ...data.series.map((series) => series.values)],
      chart,
    );
    chart.dataset.drawn = "true";
  }
}
