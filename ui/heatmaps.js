// Attention heatmaps on a canvas, from a message made by attention/viz/packed.py: one pixel per weight drawn into
// an offscreen canvas and scaled up without smoothing, so drawing 13 panels of 512 x 512 takes milliseconds.
// Labels, titles, hover and cell numbers are drawn as canvas text or set with textContent: a token is never HTML.

const FONT = "system-ui, -apple-system, 'Segoe UI', sans-serif";
const TITLE_PX = 22, GAP = 14, BAR = 64, MAX_SIDE = 420, ONE_SIDE = 700, CELL_FONT = 10, CELL_FONT_MIN = 8;
const views = new WeakMap(); // parentElement -> this instance's elements and last message

function decode(bytes) {
  const buf = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength); // aligned copy
  const n = new DataView(buf).getUint32(0, true);
  const head = JSON.parse(new TextDecoder().decode(new Uint8Array(buf, 4, n)));
  const start = 4 + n + ((4 + n) % 2);
  const [P, R, C] = head.shape;
  return { head, q: new Uint16Array(buf, start, P * R * C) };
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

function layout(head, width) {
  // Panels per row: head.wrap, fewer when that leaves a panel less than a pixel per weight (two at least), so a
  // long sentence's heads are drawn at full resolution where the page allows it.
  const [P, R, C] = head.shape;
  const chars = head.ticks ? Math.max(...head.rows.map((s) => s.length), ...head.cols.map((s) => s.length)) : 0;
  const left = head.ticks ? Math.min(160, 10 + Math.round(5.5 * chars)) : 8;
  const bottom = head.ticks ? Math.min(160, 10 + Math.round(4.8 * chars)) : 8;
  const room = width - left - BAR;
  const per = Math.max(1, Math.min(head.wrap, Math.max(2, Math.floor((room + GAP) / (C + GAP)))));
  const nRows = Math.ceil(P / per), free = room - (per - 1) * GAP;
  const cap = P > 1 ? Math.max(MAX_SIDE, Math.min(C, 520)) : ONE_SIDE;
  const side = Math.max(40, Math.min(cap, Math.floor(free / per)));
  const w = side, h = side * R / C;
  const boxes = [];
  for (let p = 0; p < P; p++) {
    const col = p % per, row = Math.floor(p / per);
    boxes.push({ x: left + col * (w + GAP), y: TITLE_PX + row * (h + TITLE_PX + GAP), w, h });
  }
  const height = TITLE_PX + nRows * (h + TITLE_PX + GAP) - TITLE_PX - GAP + bottom;
  return { boxes, width: left + per * w + (per - 1) * GAP + BAR, height, per };
}

function value(head, code) {
  return head.low + (code / head.steps) * (head.high - head.low);
}

function draw(view) {
  const { canvas, msg } = view, { head, q } = msg;
  const [P, R, C] = head.shape;
  const width = Math.max(320, view.root.clientWidth || 940);
  const place = layout(head, width);
  const dpr = window.devicePixelRatio || 1;
  canvas.width = Math.round(place.width * dpr);
  canvas.height = Math.round(place.height * dpr);
  canvas.style.width = place.width + "px";
  canvas.style.height = place.height + "px";
  const ctx = canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.fillStyle = "white";
  ctx.fillRect(0, 0, place.width, place.height);
  const colors = lut(head.colors), off = document.createElement("canvas");
  off.width = C;
  off.height = R;
  const octx = off.getContext("2d"), img = octx.createImageData(C, R), px = img.data;
  const panels = [];
  const chars = head.low < 0 ? 5 : 4, fontFor = (b) => Math.min(b.w / C / (0.65 * chars), b.h / R / 1.3, CELL_FONT);
  for (let p = 0; p < P; p++) {
    const b = place.boxes[p], base = p * R * C;
    for (let i = 0; i < R * C; i++) {
      const code = q[base + i], o = i * 4;
      if (code === head.masked) { px[o] = px[o + 1] = px[o + 2] = 238; } else {
        const c = Math.round((code / head.steps) * 255) * 3;
        px[o] = colors[c]; px[o + 1] = colors[c + 1]; px[o + 2] = colors[c + 2];
      }
      px[o + 3] = 255;
    }
    octx.putImageData(img, 0, 0);
    ctx.imageSmoothingEnabled = b.w < C || b.h < R; // shrunk: average neighbours, never drop a row or column
    ctx.imageSmoothingQuality = "high";
    ctx.drawImage(off, b.x, b.y, b.w, b.h);
    ctx.strokeStyle = "#d0d0d0";
    ctx.strokeRect(b.x - 0.5, b.y - 0.5, b.w + 1, b.h + 1);
    ctx.fillStyle = "#262730";
    ctx.font = `${b.w < 100 ? 11 : 13}px ${FONT}`;
    ctx.textAlign = "center";
    ctx.textBaseline = "bottom";
    ctx.fillText(head.titles[p], b.x + b.w / 2, b.y - 4, b.w);
    const size = Math.floor(fontFor(b));
    const written = size >= CELL_FONT_MIN ? numbers(ctx, head, q, base, b, size, R, C) : { n: 0, text_w: 0, text_h: 0 };
    panels.push({ title: head.titles[p], cell_w: b.w / C, cell_h: b.h / R, font: written.n ? size : 0, ...written });
    if (head.ticks) ticks(ctx, head, b, p, place.per, P);
  }
  colorbar(ctx, head, colors, place);
  view.place = place;
  return panels;
}

function numbers(ctx, head, q, base, b, size, R, C) { // -> {n, text_w, text_h}: what was written, for tests
  ctx.font = `${size}px ${FONT}`;
  let n = 0, textW = 0, textH = 0;
  ctx.textAlign = "center";
  ctx.textBaseline = "middle";
  const cw = b.w / C, ch = b.h / R;
  for (let i = 0; i < R; i++) {
    for (let j = 0; j < C; j++) {
      const code = q[base + i * C + j];
      if (code === head.masked) continue;
      const t = code / head.steps, v = value(head, code);
      ctx.fillStyle = Math.abs(t - (head.low < 0 ? 0.5 : 0)) > (head.low < 0 ? 0.3 : 0.55) ? "white" : "#262730";
      const s = v.toFixed(2), m = ctx.measureText(s);
      ctx.fillText(s, b.x + (j + 0.5) * cw, b.y + (i + 0.5) * ch);
      n += 1;
      textW = Math.max(textW, m.width);
      textH = Math.max(textH, m.actualBoundingBoxAscent + m.actualBoundingBoxDescent);
    }
  }
  return { n, text_w: textW, text_h: textH };
}

function ticks(ctx, head, b, p, per, P) {
  const [, R, C] = head.shape;
  ctx.fillStyle = "#444";
  ctx.font = `9px ${FONT}`;
  if (p % per === 0) {
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    head.rows.forEach((s, i) => ctx.fillText(s, b.x - 4, b.y + ((i + 0.5) * b.h) / R));
  }
  if (p + per >= P) {
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    head.cols.forEach((s, j) => {
      ctx.save();
      ctx.translate(b.x + ((j + 0.5) * b.w) / C, b.y + b.h + 4);
      ctx.rotate(-Math.PI / 3);
      ctx.fillText(s, 0, 0);
      ctx.restore();
    });
  }
}

function colorbar(ctx, head, colors, place) {
  const top = place.boxes[0].y, h = Math.min(260, place.height - top - 8), x = place.width - BAR + 16;
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
    ctx.fillText(Number(v.toPrecision(3)).toString(), x + 16, top + (k * (h - 1)) / 2));
  ctx.textBaseline = "bottom";
  ctx.fillText(head.colorbar, x - 4, top - 4);
}

function cellAt(view, ev) {
  const r = view.canvas.getBoundingClientRect(), x = ev.clientX - r.left, y = ev.clientY - r.top;
  const [, R, C] = view.msg.head.shape;
  for (let p = 0; p < view.place.boxes.length; p++) {
    const b = view.place.boxes[p];
    if (x >= b.x && x < b.x + b.w && y >= b.y && y < b.y + b.h) {
      return { p, i: Math.floor(((y - b.y) / b.h) * R), j: Math.floor(((x - b.x) / b.w) * C), x, y };
    }
  }
  return null;
}

function hover(view, ev) {
  const cell = cellAt(view, ev), tip = view.tip;
  if (!cell) { tip.style.display = "none"; return; }
  const { head, q } = view.msg, [, R, C] = head.shape, code = q[cell.p * R * C + cell.i * C + cell.j];
  const shown = code === head.masked ? "masked" : value(head, code).toFixed(4);
  tip.textContent = head.hover === "title" ? `${head.titles[cell.p]}${head.click ? ": click to enlarge" : ""}`
    : `${head.titles[cell.p]}\n${head.rows[cell.i]} → ${head.cols[cell.j]}: ${shown}`;
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
  parentElement.querySelectorAll(".hm-root").forEach((e) => e.remove()); // a remount after a cleanup
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
  const panels = draw(view), { head, q } = view.msg, [P, R, C] = head.shape;
  const z0 = R * C <= 4096 ? Array.from({ length: R }, (_, i) => Array.from(q.subarray(i * C, (i + 1) * C), (c) =>
    c === head.masked ? null : value(head, c))) : null;
  // what was drawn, for browser tests and benches (tools/browser.py GRIDS_JS, tests/kit.py CELLS_JS)
  view.canvas.hm = { n: P, drawn: panels.length, titles: head.titles, x: head.cols, z0, panels, boxes: view.place.boxes };
  view.canvas.dataset.drawn = String(Date.now());
  view.canvas.setAttribute("aria-label", view.msg.head.titles.join(", "));
}

export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  let view = views.get(parentElement);
  if (!view) {
    view = mount(parentElement, setTriggerValue);
    views.set(parentElement, view);
  }
  view.setTriggerValue = setTriggerValue;
  if (data && data !== view.bytes) {
    view.bytes = data;
    view.msg = decode(data);
    redraw(view);
  }
  return () => { view.resize.disconnect(); views.delete(parentElement); };
}
