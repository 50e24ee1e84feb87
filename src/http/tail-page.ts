/**
 * `/ui/tail.html?topic=orders`: a live tail of a topic with EventSource, plain HTML and a little
 * JavaScript, no build step. Records are shown with textContent (never innerHTML), so payloads
 * cannot inject markup. Pause closes the stream and resume reopens it with the last event's id as
 * `lastEventId`, so the server holds the place and the page buffers nothing while paused. The key
 * filter only hides rows. The browser test drives this page.
 */
export const TAIL_PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Samsa tail</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 1rem 2rem; color: #222; }
  h1 { font-size: 1.2rem; margin: 0 0 .5rem; }
  #bar { display: flex; gap: 1rem; align-items: center; margin-bottom: .5rem; }
  #status { color: #555; }
  #status.live { color: #0a7d32; } #status.error { color: #b00020; } #status.paused { color: #8a6d00; }
  table { border-collapse: collapse; width: 100%; }
  th, td { text-align: left; padding: .2rem .5rem; border-bottom: 1px solid #eee; vertical-align: top; }
  th.narrow, td.narrow { width: 1%; white-space: nowrap; }
  td.time, td.key, td.value { font-family: ui-monospace, monospace; }
  td.value { white-space: pre-wrap; word-break: break-all; }
</style>
</head>
<body>
<h1>Tail of <span id="topic"></span></h1>
<div id="bar">
  <button id="pause" type="button">Pause</button>
  <label>key contains <input id="key-filter" type="search" size="20"></label>
  <span id="status">connecting…</span>
  <span>records: <span id="count">0</span></span>
</div>
<table>
  <thead><tr><th class="narrow">partition</th><th class="narrow">offset</th><th class="narrow">time (UTC)</th><th class="narrow">key</th><th>value</th></tr></thead>
  <tbody id="records"></tbody>
</table>
<script>
  const MAX_ROWS = 500;
  const CLASSES = ['narrow', 'narrow', 'narrow time', 'narrow key', 'value'];
  const params = new URLSearchParams(location.search);
  const topic = params.get('topic') || '';
  document.getElementById('topic').textContent = topic;
  const status = document.getElementById('status');
  const body = document.getElementById('records');
  const countEl = document.getElementById('count');
  const pauseButton = document.getElementById('pause');
  const keyFilter = document.getElementById('key-filter');
  let count = 0;
  let source = null;
  let lastEventId = '';

  function setStatus(text, className) { status.textContent = text; status.className = className; }
  function matches(row) { return row.dataset.key.includes(keyFilter.value); }

  function open() {
    const query = new URLSearchParams();
    // access_token: a stream token (POST /stream-tokens) when the server requires authentication.
    for (const name of ['from', 'group', 'key', 'format', 'partitions', 'access_token']) {
      if (params.get(name)) query.set(name, params.get(name));
    }
    // After a pause: on from the last event shown, whatever 'from' says.
    if (lastEventId) query.set('lastEventId', lastEventId);
    source = new EventSource('/topics/' + encodeURIComponent(topic) + '/stream?' + query);
    source.onopen = () => setStatus('live', 'live');
    source.onerror = () => setStatus('reconnecting…', '');
    source.addEventListener('error', (e) => {
      if (!e.data) return;
      const err = JSON.parse(e.data);
      setStatus('error ' + err.error_code + ': ' + err.message, 'error');
    });
    source.addEventListener('record', (e) => {
      lastEventId = e.lastEventId;
      const r = JSON.parse(e.data);
      const row = document.createElement('tr');
      row.dataset.offset = String(r.offset);
      row.dataset.key = JSON.stringify(r.key);
      const time = new Date(r.timestamp).toISOString();
      const cells = [r.partition, r.offset, time.slice(11, 23), row.dataset.key, JSON.stringify(r.value)];
      cells.forEach((text, i) => {
        const td = document.createElement('td');
        td.textContent = String(text);
        td.className = CLASSES[i];
        if (i === 2) td.title = time;
        row.appendChild(td);
      });
      row.hidden = !matches(row);
      body.insertBefore(row, body.firstChild);
      while (body.children.length > MAX_ROWS) body.removeChild(body.lastChild);
      countEl.textContent = String(++count);
    });
  }

  if (!topic) {
    setStatus('add ?topic=<name> to the address', 'error');
    pauseButton.disabled = true;
  } else {
    open();
    pauseButton.addEventListener('click', () => {
      if (source) {
        source.close();
        source = null;
        pauseButton.textContent = 'Resume';
        setStatus('paused', 'paused');
      } else {
        pauseButton.textContent = 'Pause';
        setStatus('connecting…', '');
        open();
      }
    });
  }
  keyFilter.addEventListener('input', () => {
    for (const row of body.children) row.hidden = !matches(row);
  });
</script>
</body>
</html>
`;
