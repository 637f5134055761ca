// Heatmaps on a canvas, from a message made by attention/viz/packed.py: one pixel per value drawn into an
// offscreen canvas and scaled up without smoothing (averaged when shrunk), so 13 panels of 512 x 512 take
// milliseconds. Labels, titles, hover and cell numbers are canvas text or textContent: a token is never HTML.

const FONT = "system-ui, -apple-system, 'Segoe UI', sans-serif";
const LINE = 16, GAP = 14, BAR = 64, MAX_SIDE = 420, ONE_SIDE = 700, CELL_FONT = 10, CELL_FONT_MIN = 8;

function decode(bytes) { // -> {head, panels: [{R, C, v (Float32Array, NaN = masked), cols, title}]}
  const buf = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength); // aligned copy
  const n = new DataView(buf).getUint32(0, true);
  const head = JSON.parse(new TextDecoder().decode(new Uint8Array(buf, 4, n)));
  const exact = head.dtype === "f32", size = exact ? 4 : 2, span = head.high - head.low;
  let start = 4 + n + ((4 - ((4 + n) % 4)) % 4);
  const panels = head.shapes.map(([R, C], p) => {
    let v;
    if (exact) v = new Float32Array(buf, start, R * C);
    else {
      const q = new Uint16Array(buf, start, R * C);
      v = new Float32Array(R * C);
      for (let i = 0; i < q.length; i++) v[i] = q[i] === head.masked ? NaN : head.low + (q[i] / head.steps) * span;
    }
    start += size * R * C;
    return { R, C, v, cols: head.cols[head.col_of[p]], title: head.titles[p] };
  });
  return { head, panels };
}

function lut(stops) { // 256 RGB colours interpolated between the scale's stops, as plotly does
  const parsed = stops.map(([t, c]) => [t, c.match(/\d+(\.\d+)?/g).slice(0, 3).map(Number)]);
  const out = new Uint8ClampedArray(256 * 3);
  for (let i = 0; i < 256; i++) {
    const t = i / 255;
    let k = 1;
    while (k < parsed.length - 1 && parsed[k][0] < t) k++;
    const [t0, c0] = parsed[k - 1], [t1, c1] = parsed[k];
    const f = t1 > t0 ? (t - t0) / (t1 - t0) : 0;
    for (let j = 0; j < 3; j++) out[i * 3 + j] = c0[j] + f * (c1[j] - c0[j]);
  }
  return out;
}

function labelled(head, labels) { // tick labels: as the message says, or when there are few enough of them
  return head.ticks === null ? labels.length <= head.ticks_up_to : head.ticks;
}

function margins(head, panels) {
  const widest = (xs) => Math.max(0, ...xs.map((s) => s.length));
  const rows = labelled(head, head.rows) ? widest(head.rows) : 0;
  const cols = widest(panels.filter((p) => labelled(head, p.cols)).flatMap((p) => p.cols));
  const lines = Math.max(...head.titles.map((t) => t.split("<br>").length));
  return {
    left: rows ? Math.min(160, 10 + Math.round(5.5 * rows)) : 8,
    bottom: cols ? Math.min(160, 10 + Math.round(4.8 * cols)) : 8,
    title: 6 + LINE * lines,
  };
}

function gridLayout(head, panels, width, m) {
  // head.wrap panels to a row, fewer when that leaves a panel less than a pixel per value (two at least)
  const P = panels.length, C = Math.max(...panels.map((p) => p.C)), room = width - m.left - BAR;
  const per = Math.max(1, Math.min(head.wrap, Math.max(2, Math.floor((room + GAP) / (C + GAP)))));
  const cap = P > 1 ? Math.max(MAX_SIDE, Math.min(C, 520)) : ONE_SIDE;
  const side = Math.max(40, Math.min(cap, Math.floor((room - (per - 1) * GAP) / per)));
  const h = side * Math.max(...panels.map((p) => p.R / p.C)), nRows = Math.ceil(P / per);
  const boxes = panels.map((_, p) => ({
    x: m.left + (p % per) * (side + GAP), y: m.title + Math.floor(p / per) * (h + m.title + GAP), w: side, h,
  }));
  const height = nRows * (h + m.title + GAP) - GAP + m.bottom;
  return { boxes, width: m.left + per * side + (per - 1) * GAP + BAR, height, per };
}

function rowLayout(head, panels, width, m) {
  // one row, each panel as wide as its columns (a 1-column panel stays visible), rows sized by their count
  const R = panels[0].R, room = width - m.left - BAR - (panels.length - 1) * GAP;
  const weights = panels.map((p) => Math.max(p.C, R / 8)), total = weights.reduce((a, b) => a + b, 0);
  const h = head.height ? head.height - m.title - m.bottom : Math.min(630, R * Math.max(9, Math.min(34, 640 / R)));
  let x = m.left;
  const boxes = panels.map((p, k) => {
    const w = Math.max(12, Math.min((room * weights[k]) / total, p.C * 60));
    const box = { x, y: m.title, w, h };
    x += w + GAP;
    return box;
  });
  return { boxes, width: x - GAP + BAR, height: m.title + h + m.bottom, per: panels.length };
}

function shade(head, v) { // 0..1 along the colour scale
  return Math.min(1, Math.max(0, (v - head.low) / (head.high - head.low)));
}

function draw(view) {
  const { canvas, msg } = view, { head, panels } = msg;
  const width = Math.max(320, view.root.clientWidth || 940), m = margins(head, panels);
  const place = head.wrap ? gridLayout(head, panels, width, m) : rowLayout(head, panels, width, m);
  const dpr = window.devicePixelRatio || 1;
  canvas.width = Math.round(place.width * dpr);
  canvas.height = Math.round(place.height * dpr);
  canvas.style.width = place.width + "px";
  canvas.style.height = place.height + "px";
  const ctx = canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.fillStyle = "white";
  ctx.fillRect(0, 0, place.width, place.height);
  const colors = lut(head.colors), drawn = [];
  panels.forEach((panel, p) => {
    const b = place.boxes[p];
    image(ctx, head, panel, colors, b);
    title(ctx, panel.title, b);
    const size = Math.floor(Math.min(b.w / panel.C / (0.65 * head.chars), b.h / panel.R / 1.3, CELL_FONT));
    const written = size >= CELL_FONT_MIN ? numbers(ctx, head, panel, b, size) : { n: 0, text_w: 0, text_h: 0 };
    drawn.push({ title: panel.title, cell_w: b.w / panel.C, cell_h: b.h / panel.R, font: written.n ? size : 0,
      ...written });
    ticks(ctx, head, panel, b, p, place);
  });
  colorbar(ctx, head, colors, place);
  view.place = place;
  return drawn;
}

function image(ctx, head, panel, colors, b) {
  const { R, C, v } = panel, off = document.createElement("canvas");
  off.width = C;
  off.height = R;
  const octx = off.getContext("2d"), img = octx.createImageData(C, R), px = img.data, masked = [];
  for (let i = 0; i < R * C; i++) {
    const o = i * 4;
    if (Number.isNaN(v[i])) { px[o] = px[o + 1] = px[o + 2] = 255; masked.push(i); } else {
      const c = Math.round(shade(head, v[i]) * 255) * 3;
      px[o] = colors[c]; px[o + 1] = colors[c + 1]; px[o + 2] = colors[c + 2];
    }
    px[o + 3] = 255;
  }
  octx.putImageData(img, 0, 0);
  ctx.imageSmoothingEnabled = b.w < C || b.h < R; // shrunk: average neighbours, never drop a row or column
  ctx.imageSmoothingQuality = "high";
  ctx.drawImage(off, b.x, b.y, b.w, b.h);
  hatch(ctx, masked, C, b.w / C, b.h / R, b);
  ctx.strokeStyle = "#d0d0d0";
  ctx.strokeRect(b.x - 0.5, b.y - 0.5, b.w + 1, b.h + 1);
}

function hatch(ctx, cells, C, cw, ch, b) { // masked cells: blank, with grey diagonals
  if (!cells.length) return;
  ctx.save();
  ctx.strokeStyle = "#9e9e9e";
  ctx.lineWidth = 1;
  ctx.beginPath();
  const step = Math.max(4, Math.min(cw, ch) / 3);
  for (const i of cells) {
    const x = b.x + (i % C) * cw, y = b.y + Math.floor(i / C) * ch;
    for (let d = step / 2; d < cw + ch; d += step) { // lines x + y = d inside the cell, clipped to it
      const x0 = Math.max(0, d - ch), x1 = Math.min(cw, d);
      if (x1 > x0) { ctx.moveTo(x + x0, y + d - x0); ctx.lineTo(x + x1, y + d - x1); }
    }
  }
  ctx.stroke();
  ctx.restore();
}

function title(ctx, text, b) {
  const lines = text.split("<br>");
  ctx.fillStyle = "#262730";
  ctx.font = `${b.w < 100 ? 11 : 13}px ${FONT}`;
  ctx.textAlign = "center";
  ctx.textBaseline = "bottom";
  lines.forEach((line, k) => ctx.fillText(line, b.x + b.w / 2, b.y - 4 - (lines.length - 1 - k) * LINE, b.w + GAP));
}

function numbers(ctx, head, panel, b, size) { // -> {n, text_w, text_h}: what was written, for tests
  const { R, C, v } = panel, cw = b.w / C, ch = b.h / R, diverging = head.low < 0;
  ctx.font = `${size}px ${FONT}`;
  ctx.textAlign = "center";
  ctx.textBaseline = "middle";
  let n = 0, textW = 0, textH = 0;
  for (let i = 0; i < R; i++) {
    for (let j = 0; j < C; j++) {
      const x = v[i * C + j];
      if (Number.isNaN(x)) continue;
      const t = shade(head, x), s = x.toFixed(2), mt = ctx.measureText(s);
      ctx.fillStyle = (diverging ? Math.abs(t - 0.5) > 0.3 : t > 0.55) ? "white" : "#262730";
      ctx.fillText(s, b.x + (j + 0.5) * cw, b.y + (i + 0.5) * ch);
      n += 1;
      textW = Math.max(textW, mt.width);
      textH = Math.max(textH, mt.actualBoundingBoxAscent + mt.actualBoundingBoxDescent);
    }
  }
  return { n, text_w: textW, text_h: textH };
}

function ticks(ctx, head, panel, b, p, place) {
  ctx.fillStyle = "#444";
  ctx.font = `9px ${FONT}`;
  ctx.textAlign = "right";
  ctx.textBaseline = "middle";
  const rows = p % place.per === 0 && labelled(head, head.rows);
  if (rows) head.rows.forEach((s, i) => ctx.fillText(s, b.x - 4, b.y + ((i + 0.5) * b.h) / panel.R));
  if (p + place.per < place.boxes.length || !labelled(head, panel.cols)) return; // columns: under the bottom row
  panel.cols.forEach((s, j) => {
    ctx.save();
    ctx.translate(b.x + ((j + 0.5) * b.w) / panel.C, b.y + b.h + 4);
    ctx.rotate(-Math.PI / 3);
    ctx.fillText(s, 0, 0);
    ctx.restore();
  });
}

function colorbar(ctx, head, colors, place) {
  const top = place.boxes[0].y, h = Math.max(40, Math.min(260, place.height - top - 8)), x = place.width - BAR + 16;
  for (let k = 0; k < h; k++) {
    const c = Math.round((1 - k / (h - 1)) * 255) * 3;
    ctx.fillStyle = `rgb(${colors[c]},${colors[c + 1]},${colors[c + 2]})`;
    ctx.fillRect(x, top + k, 12, 1);
  }
  ctx.strokeStyle = "#bbb";
  ctx.strokeRect(x - 0.5, top - 0.5, 13, h + 1);
  ctx.fillStyle = "#444";
  ctx.font = `11px ${FONT}`;
  ctx.textAlign = "left";
  ctx.textBaseline = "middle";
  [head.high, (head.high + head.low) / 2, head.low].forEach((v, k) =>
    ctx.fillText(Number(v.toPrecision(3)).toString(), x + 16, top + 5 + (k * (h - 10)) / 2));
  ctx.textBaseline = "bottom";
  ctx.fillText(head.colorbar, x - 4, top - 4);
}

function cellAt(view, ev) {
  const r = view.canvas.getBoundingClientRect(), x = ev.clientX - r.left, y = ev.clientY - r.top;
  for (let p = 0; p < view.place.boxes.length; p++) {
    const b = view.place.boxes[p], { R, C } = view.msg.panels[p];
    if (x >= b.x && x < b.x + b.w && y >= b.y && y < b.y + b.h) {
      return { p, i: Math.floor(((y - b.y) / b.h) * R), j: Math.floor(((x - b.x) / b.w) * C), x, y };
    }
  }
  return null;
}

function hover(view, ev) {
  const cell = cellAt(view, ev), tip = view.tip;
  if (!cell) { tip.style.display = "none"; return; }
  const { head, panels } = view.msg, panel = panels[cell.p], x = panel.v[cell.i * panel.C + cell.j];
  const shown = Number.isNaN(x) ? "masked" : (head.dtype === "f32" ? "" : "≈") + x.toFixed(4);
  const name = panel.title.replaceAll("<br>", " ");
  tip.textContent = head.hover === "title" ? `${name}${head.click ? ": click to enlarge" : ""}`
    : `${name}\n${head.rows[cell.i]} → ${panel.cols[cell.j]}: ${shown}`;
  tip.style.display = "block";
  tip.style.left = Math.min(cell.x + 14, view.place.width - 180) + "px";
  tip.style.top = cell.y + 14 + "px";
  view.canvas.style.cursor = head.click ? "pointer" : "crosshair";
}

function savePng(view) {
  view.canvas.toBlob((blob) => {
    const a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = `${view.msg.head.name}.png`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  });
}

function mount(parentElement, setTriggerValue) {
  const root = document.createElement("div");
  root.className = "hm-root";
  const bar = document.createElement("div");
  bar.className = "hm-bar";
  const png = document.createElement("button");
  png.className = "hm-png";
  png.textContent = "PNG";
  png.title = "Download these heatmaps as a PNG image";
  bar.appendChild(png);
  const canvas = document.createElement("canvas");
  canvas.className = "hm-canvas";
  canvas.setAttribute("role", "img");
  const tip = document.createElement("div");
  tip.className = "hm-tip";
  root.append(bar, canvas, tip);
  parentElement.appendChild(root);
  const view = { root, canvas, tip, setTriggerValue };
  root.hmView = view; // found again on the next render: the same elements, so the page never shifts
  png.onclick = () => savePng(view);
  canvas.onmousemove = (ev) => hover(view, ev);
  canvas.onmouseleave = () => { tip.style.display = "none"; };
  canvas.onclick = (ev) => {
    const cell = cellAt(view, ev);
    if (cell && view.msg.head.click) view.setTriggerValue("clicked", cell.p);
  };
  let pending = 0;
  view.resize = new ResizeObserver(() => {
    cancelAnimationFrame(pending);
    pending = requestAnimationFrame(() => view.msg && view.width !== root.clientWidth && redraw(view));
  });
  view.resize.observe(root);
  return view;
}

function redraw(view) {
  view.width = view.root.clientWidth;
  const drawn = draw(view), { head, panels } = view.msg;
  const rows = (p) => p.R * p.C > 4096 ? null : Array.from({ length: p.R }, (_, i) => // small panels' values
    Array.from(p.v.subarray(i * p.C, (i + 1) * p.C), (x) => Number.isNaN(x) ? null : x));
  // what was drawn, for browser tests and benches (tools/browser.py CANVASES); values only when asked for
  view.canvas.hm = { n: panels.length, drawn: drawn.length, titles: head.titles, x: panels[0].cols,
    get z0() { return rows(panels[0]); }, get z() { return panels.map(rows); }, panels: drawn, boxes: view.place.boxes };
  view.canvas.dataset.drawn = String(Date.now());
  view.canvas.setAttribute("aria-label", head.titles.join(", ").replaceAll("<br>", " "));
}

function same(a, b) { // two messages, byte for byte
  if (a === b) return true;
  if (!a || !b || a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  const found = parentElement.querySelector(":scope > .hm-root");
  const view = found ? found.hmView : mount(parentElement, setTriggerValue);
  view.setTriggerValue = setTriggerValue;
  if (data && !same(data, view.bytes)) { // a rerun that sends the same message (a live page's tick) draws nothing
    view.bytes = data;
    view.msg = decode(data);
    redraw(view);
  }
  return () => requestAnimationFrame(() => view.root.isConnected || view.resize.disconnect()); // gone: stop watching
}
