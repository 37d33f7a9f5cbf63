// The benchmark report's chart: one horizontal bar per measure against a peer, on a log scale
// around parity (1x), right where pkgedge did better, left where the peer did; plain SVG.

const esc = (s) => String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/**
 * `rows`: [{ benchmark, peerName, measure, advantage }], advantage > 1 where pkgedge did better
 * by that factor. Answers the SVG document as a string.
 */
export function summarySvg(rows) {
  const labelWidth = 480;
  const plotWidth = 420;
  const rowHeight = 20;
  const top = 56;
  const height = top + Math.max(rows.length, 1) * rowHeight + 40;
  const width = labelWidth + plotWidth + 100;
  // Symmetric log2 scale, at least 1/4x..4x so small differences do not look huge.
  const span = Math.max(2, ...rows.map((r) => Math.abs(Math.log2(r.advantage)))) * 1.05;
  const mid = labelWidth + plotWidth / 2;
  const x = (adv) => mid + (Math.log2(adv) / span) * (plotWidth / 2);
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="10" y="20" font-size="15" font-weight="bold">pkgedge against its peers on one machine (log scale)</text>`,
    `<text x="${mid - 8}" y="${top - 10}" text-anchor="end" fill="#b45309">◀ peer better</text>`,
    `<text x="${mid + 8}" y="${top - 10}" fill="#047857">pkgedge better ▶</text>`,
  ];
  for (const tick of [1 / 16, 1 / 8, 1 / 4, 1 / 2, 1, 2, 4, 8, 16]) {
    if (Math.abs(Math.log2(tick)) > span) continue;
    const tx = x(tick);
    out.push(`<line x1="${tx}" y1="${top}" x2="${tx}" y2="${height - 30}" stroke="${tick === 1 ? "#333" : "#ddd"}"/>`);
    out.push(`<text x="${tx}" y="${height - 14}" text-anchor="middle" fill="#555">${tick >= 1 ? `${tick}x` : `1/${1 / tick}x`}</text>`);
  }
  if (rows.length === 0) out.push(`<text x="${mid}" y="${top + 14}" text-anchor="middle">no comparisons yet</text>`);
  rows.forEach((r, i) => {
    const y = top + i * rowHeight;
    const bx = x(r.advantage);
    const better = r.advantage >= 1;
    out.push(`<text x="${labelWidth - 8}" y="${y + 14}" text-anchor="end">${esc(`${r.benchmark}: ${r.measure}`.slice(0, 72))}</text>`);
    out.push(`<rect x="${Math.min(bx, mid)}" y="${y + 4}" width="${Math.max(Math.abs(bx - mid), 1)}" height="${rowHeight - 8}" fill="${better ? "#10b981" : "#f59e0b"}"><title>${esc(`${r.measure}: pkgedge ${r.pkgedge ?? ""} vs ${r.peerName} ${r.peer ?? ""}`)}</title></rect>`);
    // Values in a column of their own, so a long bar never runs into its label.
    const label = r.even ? "even" : better ? `${r.advantage.toFixed(2)}x better` : `${(1 / r.advantage).toFixed(2)}x worse`;
    out.push(`<text x="${labelWidth + plotWidth + 8}" y="${y + 14}" fill="${r.even ? "#555" : better ? "#047857" : "#b45309"}">${label}</text>`);
  });
  out.push("</svg>");
  return `${out.join("\n")}\n`;
}
