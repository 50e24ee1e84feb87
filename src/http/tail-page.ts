/**
 * `/ui/tail.html?topic=orders`: a live tail of a topic with EventSource, plain HTML and a little
 * JavaScript. Records are shown with textContent (never innerHTML), so payloads cannot inject
 * markup. The browser test drives this page.
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
  #status { margin-bottom: .5rem; color: #555; }
  #status.live { color: #0a7d32; } #status.error { color: #b00020; }
  table { border-collapse: collapse; width: 100%; }
  th, td { text-align: left; padding: .2rem .5rem; border-bottom: 1px solid #eee; vertical-align: top; }
  td.value { font-family: ui-monospace, monospace; white-space: pre-wrap; word-break: break-all; }
</style>
</head>
<body>
<h1>Tail of <span id="topic"></span></h1>
<div id="status">connecting…</div>
<div>records: <span id="count">0</span></div>
<table>
  <thead><tr><th>partition</th><th>offset</th><th>time</th><th>key</th><th>value</th></tr></thead>
  <tbody id="records"></tbody>
</table>
<script>
  const MAX_ROWS = 500;
  const params = new URLSearchParams(location.search);
  const topic = params.get('topic') || '';
  document.getElementById('topic').textContent = topic;
  const status = document.getElementById('status');
  const body = document.getElementById('records');
  const countEl = document.getElementById('count');
  let count = 0;
  if (!topic) {
    status.textContent = 'add ?topic=<name> to the address';
    status.className = 'error';
  } else {
    const query = new URLSearchParams();
    for (const name of ['from', 'group', 'key', 'format', 'partitions']) {
      if (params.get(name)) query.set(name, params.get(name));
    }
    const source = new EventSource('/topics/' + encodeURIComponent(topic) + '/stream?' + query);
    source.onopen = () => { status.textContent = 'live'; status.className = 'live'; };
    source.onerror = () => { status.textContent = 'reconnecting…'; status.className = ''; };
    source.addEventListener('error', (e) => {
      if (!e.data) return;
      const err = JSON.parse(e.data);
      status.textContent = 'error ' + err.error_code + ': ' + err.message;
      status.className = 'error';
    });
    source.addEventListener('record', (e) => {
      const r = JSON.parse(e.data);
      const row = document.createElement('tr');
      row.dataset.offset = String(r.offset);
      const cells = [r.partition, r.offset, new Date(r.timestamp).toISOString(), JSON.stringify(r.key), JSON.stringify(r.value)];
      cells.forEach((text, i) => {
        const td = document.createElement('td');
        td.textContent = String(text);
        if (i === 4) td.className = 'value';
        row.appendChild(td);
      });
      body.insertBefore(row, body.firstChild);
      while (body.children.length > MAX_ROWS) body.removeChild(body.lastChild);
      countEl.textContent = String(++count);
    });
  }
</script>
</body>
</html>
`;
