/** The console's stylesheet: plain CSS, light and dark by the system's preference, no framework. */
export const CONSOLE_CSS = `
:root { --bg:#f8fafc; --fg:#0f172a; --muted:#64748b; --line:#e2e8f0; --card:#fff; --accent:#2563eb;
  --ok:#16a34a; --warn:#d97706; --err:#dc2626; --font:system-ui,-apple-system,"Segoe UI",sans-serif; }
@media (prefers-color-scheme: dark) { :root { --bg:#0b1120; --fg:#e2e8f0; --muted:#94a3b8; --line:#1e293b;
  --card:#111827; --accent:#60a5fa; } }
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:var(--fg); font:14px/1.45 var(--font); }
header { display:flex; gap:1.5rem; align-items:center; padding:.6rem 1.2rem; border-bottom:1px solid var(--line);
  background:var(--card); }
header .brand { font-size:1.1rem; letter-spacing:.02em; }
header nav { display:flex; gap:1rem; }
header nav a { color:var(--muted); text-decoration:none; padding:.2rem 0; }
header nav a.active, header nav a:hover { color:var(--fg); border-bottom:2px solid var(--accent); }
header .who { margin-left:auto; display:flex; gap:.6rem; align-items:center; color:var(--muted); }
main { padding:1rem 1.2rem 3rem; max-width:1400px; }
h1 { font-size:1.3rem; margin:.2rem 0 1rem; } h2 { font-size:1.05rem; margin:1.6rem 0 .6rem; }
a { color:var(--accent); }
code { font-family:ui-monospace,monospace; font-size:.92em; }
table.grid { border-collapse:collapse; width:100%; background:var(--card); }
table.grid th, table.grid td { text-align:left; padding:.35rem .6rem; border-bottom:1px solid var(--line);
  vertical-align:top; }
table.grid th { color:var(--muted); font-weight:600; font-size:.85rem; }
td.time { white-space:nowrap; font-family:ui-monospace,monospace; font-size:.85rem; }
td.message { word-break:break-word; }
.spark { white-space:pre; font-family:ui-monospace,monospace; letter-spacing:-1px; color:var(--accent); }
td.links a { margin-right:.5rem; }
tr.failed td { background:color-mix(in srgb, var(--err) 10%, transparent); }
.badge { display:inline-block; padding:0 .45rem; border-radius:999px; font-size:.8rem; border:1px solid var(--line); }
.badge.active, .badge.ok, .badge.converged, .badge.running { color:var(--ok); border-color:var(--ok); }
.badge.pending, .badge.starting, .badge.stale { color:var(--warn); border-color:var(--warn); }
.badge.suspended, .badge.not_active, .badge.offline { color:var(--muted); }
.badge.revoked, .badge.error, .badge.refused, .badge.failing { color:var(--err); border-color:var(--err); }
.badge.stale { margin-left:.3rem; }
.label { display:inline-block; margin-right:.3rem; font-family:ui-monospace,monospace; font-size:.8rem;
  color:var(--muted); }
.level { font-family:ui-monospace,monospace; font-size:.8rem; }
.level.debug { color:var(--muted); } .level.info { color:var(--accent); }
.level.warn { color:var(--warn); } .level.error { color:var(--err); font-weight:700; }
.notice { padding:.6rem .8rem; border-radius:6px; margin:.6rem 0; border:1px solid var(--line); }
.notice.error { border-color:var(--err); color:var(--err); } .notice.warn { border-color:var(--warn); color:var(--warn); }
.notice p { margin:.3rem 0 0; color:var(--fg); }
.empty, .hint { color:var(--muted); }
form.inline { display:inline; }
div.actions-row { margin:.4rem 0 .8rem; }
form.filters { display:flex; flex-wrap:wrap; gap:.4rem; margin-bottom:.8rem; align-items:center; }
input, select, button { font:inherit; padding:.3rem .5rem; border:1px solid var(--line); border-radius:4px;
  background:var(--card); color:var(--fg); }
button { cursor:pointer; } button:hover { border-color:var(--accent); }
button.danger { color:var(--err); border-color:var(--err); }
.actions button { margin-left:.3rem; }
form.signin { display:flex; flex-direction:column; gap:.8rem; max-width:420px; }
form.signin label { display:flex; flex-direction:column; gap:.3rem; }
dl.facts { display:grid; grid-template-columns:max-content 1fr; gap:.3rem 1.2rem; }
dl.facts dt { color:var(--muted); } dl.facts dd { margin:0; }
svg { max-width:100%; height:auto; background:var(--card); border:1px solid var(--line); border-radius:6px; }
svg text { fill:var(--fg); font:12px var(--font); }
svg .label { font-size:12px; } svg .dur, svg .gear-type { fill:var(--muted); font-size:11px; }
.waterfall .bar { fill:var(--accent); } .waterfall .error .bar { fill:var(--err); }
.graph .rack rect { fill:none; stroke:var(--line); stroke-width:1.5; }
.graph .rack-label { font-weight:600; }
.graph .gear rect { fill:var(--bg); stroke:var(--accent); }
.graph .wire path { fill:none; stroke:var(--muted); stroke-width:1.6; }
.graph .wire.guaranteed path { stroke:var(--ok); stroke-width:2.4; }
.graph .wire.hot path { stroke-dasharray:6 4; }
.graph .arrowhead { fill:var(--muted); }
.timeline line { stroke:var(--line); stroke-width:2; }
.timeline .hop circle { fill:var(--ok); } .timeline .hop.error circle { fill:var(--err); }
.timeline .hop-number { font-size:10px; text-anchor:middle; }
strong.failed { color:var(--err); }
#chart { background:var(--card); border:1px solid var(--line); border-radius:6px; padding:.4rem; }
`;
