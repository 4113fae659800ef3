// The page of `vqdistill serve`: plain JavaScript over the JSON API, no build step.
// window.vq exposes the page's progress for tests: ready, completed (answered updates), lastError, and
// last: the hidden pixels (comma-separated) and the conditional answer of the update shown.
'use strict';

const vq = window.vq = { ready: false, completed: 0, lastError: null, info: null, last: null };
const state = { side: 28, S: 784, image: null, hidden: null, index: null, label: null,
                modified: false, tool: 'hide', brush: 2, seed: 1, generation: 0 };
const $ = id => document.getElementById(id);

class ApiError extends Error {
  constructor(body, status) {
    super((body.field ? body.field + ': ' : '') + body.error + ' (HTTP ' + status + ')');
  }
}

async function api(path, body) {
  const init = body === undefined ? {} : {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) };
  const response = await fetch(path, init);
  const json = await response.json();
  if (!response.ok) {
    throw new ApiError(json, response.status);
  }
  return json;
}

function status(text, isError) {
  const el = $('status');
  el.textContent = text;
  el.className = isError ? 'error' : '';
  if (isError) {
    vq.lastError = text;
  }
}

// ---- drawing ------------------------------------------------------------------------------------

/** Draws levels (S numbers, 0..255 scale) into a canvas; hidden pixels (mask) get a warm tint. */
function draw(canvas, levels, hidden, overlay) {
  const side = state.side;
  const small = document.createElement('canvas');
  small.width = small.height = side;
  const ctx = small.getContext('2d');
  const img = ctx.createImageData(side, side);
  for (let p = 0; p < side * side; p++) {
    const v = Math.max(0, Math.min(255, Math.round(levels[p])));
    let r = v, g = v, b = v;
    if (hidden && hidden[p]) {
      if (overlay) {          // the input: the hidden region painted red over the image
        r = Math.round(0.45 * 230 + 0.55 * v); g = Math.round(0.55 * v + 0.45 * 40); b = g;
      } else {                // a completion: filled-in pixels tinted
        r = Math.min(255, v + 30); g = Math.round(v * 0.88); b = Math.round(v * 0.78);
      }
    }
    img.data.set([r, g, b, 255], 4 * p);
  }
  ctx.putImageData(img, 0, 0);
  const out = canvas.getContext('2d');
  out.imageSmoothingEnabled = false;
  out.drawImage(small, 0, 0, canvas.width, canvas.height);
}

function smallCanvas(levels, hidden, title) {
  const c = document.createElement('canvas');
  c.width = c.height = state.side * 3;
  if (title) {
    c.title = title;
  }
  draw(c, levels, hidden, false);
  return c;
}

function redrawInput() {
  draw($('input'), state.image, state.hidden, true);
  const hidden = state.hidden.reduce((a, b) => a + b, 0);
  $('hidden-count').textContent = hidden + ' of ' + state.S + ' pixels hidden';
  $('image-label').textContent = state.index === null ? 'drawn'
      : 'test image ' + state.index + ', label ' + state.label + (state.modified ? ', edited' : '');
}

// ---- the image and the mask ------------------------------------------------------------------------

async function loadTestImage(index) {
  const t = await api('/api/test-images/' + index);
  state.image = Float32Array.from(t.image);
  state.index = t.index;
  state.label = t.label;
  state.modified = false;
  $('index').value = t.index;
  redrawInput();
  update();
}

function evidence() {
  return state.index !== null && !state.modified
      ? { index: state.index }
      : { image: Array.from(state.image, v => Math.round(v)) };
}

function hiddenList() {
  const out = [];
  state.hidden.forEach((h, p) => { if (h) out.push(p); });
  return out;
}

function setMask(name) {
  const side = state.side, half = Math.floor(side / 2), q = Math.floor(side / 4);
  for (let p = 0; p < state.S; p++) {
    const y = Math.floor(p / side), x = p % side;
    state.hidden[p] = {
      left: x < half, right: x >= half, top: y < half, bottom: y >= half,
      centre: y >= q && y < q + half && x >= q && x < q + half,
    }[name] ? 1 : 0;
  }
  redrawInput();
  update();
}

function paintAt(event) {
  const canvas = $('input');
  const rect = canvas.getBoundingClientRect();
  const cx = Math.floor((event.clientX - rect.left) / rect.width * state.side);
  const cy = Math.floor((event.clientY - rect.top) / rect.height * state.side);
  const r = state.brush - 1;
  for (let y = cy - r; y <= cy + r; y++) {
    for (let x = cx - r; x <= cx + r; x++) {
      if (x < 0 || y < 0 || x >= state.side || y >= state.side || (x - cx) ** 2 + (y - cy) ** 2 > r * r + r) {
        continue;
      }
      const p = y * state.side + x;
      if (state.tool === 'hide') {
        state.hidden[p] = 1;
      } else if (state.tool === 'unhide') {
        state.hidden[p] = 0;
      } else {
        const centre = x === cx && y === cy;
        state.image[p] = Math.max(state.image[p], centre ? 255 : 190);
        state.modified = true;
      }
    }
  }
  redrawInput();
}

// ---- queries -----------------------------------------------------------------------------------

let timer = null;
function update() {
  clearTimeout(timer);
  timer = setTimeout(runQueries, 120);
}

function fmt(v, digits) {
  return v === null || v === undefined ? 'n/a' : v.toFixed(digits);
}

async function runQueries() {
  const generation = ++state.generation;
  const hidden = hiddenList();
  const base = evidence();
  const started = performance.now();
  status('querying\u2026');
  try {
    const calls = [
      api('/api/likelihood', base),
      api('/api/posterior', Object.assign({ top: 6, hidden }, base)),
    ];
    if (hidden.length > 0) {
      calls.push(api('/api/conditional', Object.assign({ hidden, samples: 4, seed: state.seed }, base)));
      calls.push(api('/api/marginal', Object.assign({ hidden }, base)));
    }
    const [likelihood, posterior, conditional, marginal] = await Promise.all(calls);
    if (generation !== state.generation) {
      return;   // a newer update is on its way
    }
    $('ll').textContent = fmt(likelihood.log_likelihood, 2) + ' nats';
    $('bpd').textContent = fmt(likelihood.bits_per_dim, 4);
    $('marginal').textContent = marginal
        ? fmt(marginal.log_likelihood, 2) + ' nats, ' + marginal.observed + ' px, '
          + fmt(marginal.bits_per_observed_dim, 3) + ' bits/dim'
        : 'every pixel observed';
    showCompletions(conditional);
    showComponents(posterior);
    vq.last = { hidden: hidden.join(','), conditional: conditional || null };
    vq.completed++;
    status('answered in ' + Math.round(performance.now() - started) + ' ms');
  } catch (e) {
    status(e.message, true);
  }
}

function showCompletions(conditional) {
  const strip = $('samples');
  strip.replaceChildren();
  if (!conditional) {
    ['mean', 'mode'].forEach(id => draw($(id), state.image, null, false));
    return;
  }
  const mask = state.hidden.slice();
  draw($('mean'), conditional.mean, mask, false);
  draw($('mode'), conditional.mode, mask, false);
  conditional.samples.forEach((s, i) => strip.appendChild(smallCanvas(s, mask, 'sample ' + (i + 1))));
}

function showComponents(posterior) {
  const list = $('components');
  list.replaceChildren();
  posterior.top.forEach(c => {
    const li = document.createElement('li');
    if (c.mean) {
      li.appendChild(smallCanvas(c.mean, null, 'mean of component ' + c.component));
    }
    const what = document.createElement('div');
    what.className = 'what';
    what.textContent = '#' + c.component + (c.class !== undefined ? ' \u00b7 class ' + c.class : '')
        + ' \u00b7 ' + (c.probability >= 0.001 ? 'p = ' + c.probability.toFixed(3)
                         : 'log p = ' + c.log_probability.toFixed(1));
    const bar = document.createElement('div');
    bar.className = 'bar';
    bar.style.width = Math.max(1, Math.round(200 * c.probability)) + 'px';
    what.appendChild(bar);
    li.appendChild(what);
    list.appendChild(li);
  });
}

async function unconditional() {
  try {
    const r = await api('/api/samples', { count: 8, seed: Math.floor(Math.random() * 1e9) });
    const strip = $('unconditional');
    strip.replaceChildren(...r.samples.map((s, i) => smallCanvas(s, null, 'sample ' + (i + 1))));
  } catch (e) {
    status(e.message, true);
  }
}

// ---- wiring ------------------------------------------------------------------------------------

async function start() {
  try {
    const info = vq.info = await api('/api/info');
    state.side = info.side;
    state.S = info.variables;
    state.image = new Float32Array(state.S);
    state.hidden = new Uint8Array(state.S);
    $('info').textContent = info.kind + ' \u00b7 '
        + (info.components !== undefined ? info.components.toLocaleString('en') + ' components \u00b7 ' : '')
        + info.leaf_family + ' leaves \u00b7 ' + info.parameter_count.toLocaleString('en') + ' parameters \u00b7 '
        + info.backend + ' \u00b7 ' + info.circuit;
    $('index').max = Math.max(0, info.test_images - 1);
    const canvas = $('input');
    canvas.addEventListener('pointerdown', e => {
      canvas.setPointerCapture(e.pointerId);
      state.painting = true;
      paintAt(e);
    });
    canvas.addEventListener('pointermove', e => { if (state.painting) paintAt(e); });
    const stop = () => { if (state.painting) { state.painting = false; update(); } };
    canvas.addEventListener('pointerup', stop);
    canvas.addEventListener('pointercancel', stop);
    document.querySelectorAll('input[name=tool]').forEach(r =>
        r.addEventListener('change', () => { state.tool = r.value; }));
    $('brush').addEventListener('input', e => { state.brush = Number(e.target.value); });
    document.querySelectorAll('[data-mask]').forEach(b => b.addEventListener('click', () => setMask(b.dataset.mask)));
    $('clear-mask').addEventListener('click', () => { state.hidden.fill(0); redrawInput(); update(); });
    $('clear-image').addEventListener('click', () => {
      state.image.fill(0);
      state.index = null;
      state.modified = true;
      redrawInput();
      update();
    });
    $('load').addEventListener('click', () => loadTestImage(Number($('index').value)).catch(e => status(e.message, true)));
    $('random').addEventListener('click', () =>
        loadTestImage(Math.floor(Math.random() * info.test_images)).catch(e => status(e.message, true)));
    $('resample').addEventListener('click', () => { state.seed++; update(); });
    $('sample').addEventListener('click', unconditional);
    if (info.test_images > 0) {
      await loadTestImage(0);
    } else {
      state.index = null;
      redrawInput();
      $('load').disabled = $('random').disabled = true;
      update();
    }
    await unconditional();
    vq.ready = true;
  } catch (e) {
    status(e.message, true);
  }
}

start();
