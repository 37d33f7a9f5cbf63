// The dashboard's static HTML and style, around the script in ./dashboard-script.ts: charts of
// /_/metrics?format=json drawn as inline SVG, with no external scripts, styles, fonts or images.
import { DASHBOARD_SCRIPT } from "./dashboard-script";

export const DASHBOARD_STYLE = `
[hidden]{display:none!important}
body{font:14px/1.4 system-ui,sans-serif;margin:0;background:#0f1419;color:#e6e6e6}
header{padding:12px 20px;background:#1b2530;display:flex;gap:16px;align-items:baseline;flex-wrap:wrap}
h1{font-size:18px;margin:0}
#status{color:#9aa5b1;font-size:12px;flex:1}
button{background:#2b3a4a;color:#e6e6e6;border:1px solid #3a4654;border-radius:4px;padding:4px 10px;font:inherit;cursor:pointer}
#signin{padding:24px 20px;display:flex;gap:10px;align-items:center;flex-wrap:wrap}
#signin input{background:#17202a;color:#e6e6e6;border:1px solid #3a4654;border-radius:4px;padding:5px 8px;width:320px;font:inherit}
#signin-error{color:#e8616b}
#tiles{display:grid;grid-template-columns:repeat(auto-fill,minmax(170px,1fr));gap:12px;padding:16px 20px 0}
#tiles section{padding:10px 12px}
#tiles h2{font-size:12px;margin:0 0 4px;color:#9aa5b1;font-weight:normal}
.value{font-size:22px;font-weight:600;font-variant-numeric:tabular-nums}
.detail{font-size:11px;color:#9aa5b1}
#charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(460px,1fr));gap:16px;padding:16px 20px}
section{background:#17202a;border-radius:6px;padding:12px;min-width:0}
h2{font-size:14px;margin:0 0 6px;color:#c8d1da}
.note{font-size:11px;color:#8a96a3;margin:-4px 0 6px}
svg{width:100%;height:auto;display:block}
text{fill:#c8d1da;font-size:11px}
text.tick{fill:#8a96a3;font-size:10px;font-variant-numeric:tabular-nums}
line.grid{stroke:#26323e}
line.axis{stroke:#4a5866}
path.series{fill:none;stroke-width:2;stroke-linejoin:round}
.legend{list-style:none;display:flex;flex-wrap:wrap;gap:4px 14px;margin:6px 0 0;padding:0;font-size:12px}
.legend li{display:flex;align-items:center;gap:5px}
svg.swatch{width:10px;height:10px}
table{width:100%;border-collapse:collapse;font-size:12px;font-variant-numeric:tabular-nums}
th{text-align:left;color:#9aa5b1;font-weight:normal;border-bottom:1px solid #26323e;padding:3px 6px}
td{padding:3px 6px;border-bottom:1px solid #1f2a35;overflow-wrap:anywhere}
td.n,th.n{text-align:right;white-space:nowrap}
circle.point{stroke:none}
.empty{color:#6b7785;font-size:12px}
footer{padding:0 20px 20px;font-size:11px;color:#6b7785}
`;

export function dashboardHtml(): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>pkgedge dashboard</title>
<style>${DASHBOARD_STYLE}</style>
</head>
<body>
<header><h1>pkgedge</h1><span id="status">loading…</span><button id="signout" type="button" hidden>Forget the secret</button></header>
<form id="signin" hidden>
<label for="secret">Admin secret or METRICS_TOKEN</label>
<input id="secret" type="password" autocomplete="off" spellcheck="false">
<button type="submit">Show metrics</button>
<span id="signin-error"></span>
</form>
<noscript><p>The charts need JavaScript; the raw figures are at <a href="metrics">/_/metrics</a> (with the admin secret or METRICS_TOKEN as a Bearer token).</p></noscript>
<div id="tiles"></div>
<main id="charts"></main>
<footer>Sampled every 5 s from <code>/_/metrics</code>; the series live in this tab only. Edge counters belong to the isolate that answers: where another one answers a sample (production), the charts leave a gap rather than draw a wrong rate. Shield counters are global and at most <code>METRICS_SHIELD_CACHE_MS</code> old.</footer>
<script>${DASHBOARD_SCRIPT}</script>
</body>
</html>
`;
}
