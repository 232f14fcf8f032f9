// The `modelstore ui` page: preact + htm as plain ES modules (no build step), over the
// JSON API the `modelstore ui` process serves (UI-API.md). Routes live in the URL hash:
//   #/                               domains
//   #/d/<domain>?state=&q=&offset=&columns=   a domain's models
//   #/d/<domain>/m/<model id>        a model
//   #/d/<domain>/compare/<a>/<b>     two models side by side
import { h, render } from 'preact';
import { useCallback, useEffect, useState } from 'preact/hooks';
import htm from 'htm';

const html = htm.bind(h);
const token = document.querySelector('meta[name="modelstore-token"]')?.content ?? '';
const allowWrites = document.querySelector('meta[name="modelstore-allow-writes"]')?.content === 'true';
const enc = encodeURIComponent;

/** Calls the API; rejects with the API's error message. */
async function api(path, options = {}) {
  // The page's first requests were started by index.html; each answer is used once.
  const first = options.method === undefined ? window.modelstoreFirst?.[path] : undefined;
  if (first) delete window.modelstoreFirst[path];
  const response = await (first ?? fetch(`/api/${path}`, { method: options.method ?? 'GET', headers: { 'x-modelstore-token': token }, credentials: 'same-origin' }));
  const body = await response.json().catch(() => ({ error: { message: `HTTP ${response.status}` } }));
  if (!response.ok) throw new Error(body.error?.message ?? `HTTP ${response.status}`);
  return body;
}

function useApi(path) {
  const [state, setState] = useState({ loading: true });
  const [version, setVersion] = useState(0);
  useEffect(() => {
    let live = true;
    if (path === null) return undefined;
    setState((previous) => ({ ...previous, loading: true }));
    api(path).then(
      (data) => live && setState({ data }),
      (error) => live && setState({ error: error.message }),
    );
    return () => {
      live = false;
    };
  }, [path, version]);
  return { ...state, reload: useCallback(() => setVersion((n) => n + 1), []) };
}

function parseRoute(hash) {
  const [pathPart, queryPart = ''] = hash.replace(/^#/, '').split('?');
  const parts = pathPart.split('/').filter(Boolean).map(decodeURIComponent);
  const query = new URLSearchParams(queryPart);
  if (parts[0] === 'd' && parts.length === 2) return { page: 'models', domain: parts[1], query };
  if (parts[0] === 'd' && parts[2] === 'm' && parts.length === 4) return { page: 'model', domain: parts[1], modelId: parts[3], query };
  if (parts[0] === 'd' && parts[2] === 'compare' && parts.length === 5) return { page: 'compare', domain: parts[1], a: parts[3], b: parts[4], query };
  return { page: 'domains', query };
}

const bytes = (n) => {
  if (n === null || n === undefined) return '-';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
};
const time = (iso) => (iso ? iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '-');
const text = (value) => (value === null || value === undefined ? '-' : typeof value === 'string' ? value : JSON.stringify(value));
/** Longest value a table cell shows; the whole value is its title (shown on hover) and a click expands it. */
const cellLimit = 200;
function Cell({ value }) {
  const [open, setOpen] = useState(false);
  const full = text(value);
  if (full.length <= cellLimit) return html`<td class="cell">${full}</td>`;
  return html`<td class="cell cut" title=${full} onClick=${() => setOpen(!open)}>${open ? full : `${full.slice(0, cellLimit)}…`}</td>`;
}

/** Archives up to this size download through fetch (so a failure shows its message here); bigger ones stream to the browser's download. */
const fetchedDownloadLimit = 64 * 1024 * 1024;

/** The file name a Content-Disposition header gives (filename*=UTF-8'' first, RFC 6266), or undefined. */
function dispositionName(header) {
  const star = /filename\*=UTF-8''([^;]+)/i.exec(header ?? '');
  if (star) {
    try {
      return decodeURIComponent(star[1].trim());
    } catch {
      // fall back to filename=
    }
  }
  return /filename="([^"]*)"/i.exec(header ?? '')?.[1];
}

/** Clicks a temporary link: the browser downloads `href` (named `name`, or as the server's Content-Disposition says). */
function clickDownload(href, name) {
  const link = document.createElement('a');
  link.href = href;
  link.setAttribute('download', name ?? '');
  document.body.append(link);
  link.click();
  link.remove();
}

/**
 * Downloads a model's archive after checking it can be served (HEAD: the metadata, the
 * archive there, its recorded size); archives up to fetchedDownloadLimit come through
 * fetch, so that a cut connection (bytes that do not match the recorded sha256) is
 * reported here; bigger ones stream straight into the browser's download.
 */
async function downloadArchive(path) {
  const url = `/api/${path}`;
  const headers = { 'x-modelstore-token': token };
  const head = await fetch(url, { method: 'HEAD', headers, credentials: 'same-origin' });
  if (!head.ok) {
    // A HEAD answer has no body: the GET's JSON error carries the message (it fails before any archive byte).
    await api(path);
    throw new Error(`HTTP ${head.status}`);
  }
  const size = Number(head.headers.get('content-length') ?? NaN);
  if (!(size <= fetchedDownloadLimit)) return clickDownload(url);
  const response = await fetch(url, { headers, credentials: 'same-origin' });
  if (!response.ok) await api(path);
  let blob;
  try {
    blob = await response.blob();
  } catch {
    throw new Error(
      response.headers.get('x-modelstore-verified') === 'sha256'
        ? 'The download was cut before its end: the archive in the store does not match the sha256 its metadata records (INTEGRITY), or the connection broke. Nothing was saved.'
        : 'The download was cut before its end (the connection broke). Nothing was saved.',
    );
  }
  const objectUrl = URL.createObjectURL(blob);
  try {
    clickDownload(objectUrl, dispositionName(response.headers.get('content-disposition')) ?? 'archive.tar.gz');
  } finally {
    setTimeout(() => URL.revokeObjectURL(objectUrl), 60_000);
  }
}

const States = ({ states }) => html`<span class="states">${states.length ? states.map((s) => html`<span class="state" key=${s}>${s}</span>`) : html`<span class="muted">-</span>`}</span>`;
const ErrorBox = ({ message }) => html`<p class="error" role="alert">${message}</p>`;

function Header({ store }) {
  return html`<header>
    <a href="#/" class="brand">modelstore</a>
    <span class="store">${store?.store ?? (store ? `${store.storageType} (MODEL_STORE_* variables)` : '')}</span>
    <span class=${allowWrites ? 'badge writes' : 'badge'}>${allowWrites ? 'writes allowed' : 'read-only'}</span>
  </header>`;
}

function Domains() {
  const { data, error, loading } = useApi('domains');
  return html`<main>
    <h1>Domains</h1>
    ${error && html`<${ErrorBox} message=${error} />`}
    ${loading && !data && html`<p class="loading">Loading…</p>`}
    ${
      data &&
      (data.domains.length === 0
        ? html`<p>No domain yet: <code>modelstore upload</code> creates one.</p>`
        : html`<table class="domains">
          <thead><tr><th>domain</th><th>latest model</th><th>created</th><th>library</th><th>states</th><th class="num">models</th></tr></thead>
          <tbody>
            ${data.domains.map(
              (row) => html`<tr key=${row.domain}>
                <td><a href=${`#/d/${enc(row.domain)}`}>${row.domain}</a></td>
                ${
                  row.latest
                    ? html`<td><a href=${`#/d/${enc(row.domain)}/m/${enc(row.latest.modelId)}`}><code>${row.latest.modelId}</code></a></td>
                      <td>${time(row.latest.createdAt)}</td><td>${row.latest.library ?? '-'}</td><td><${States} states=${row.latest.states} /></td>`
                    : html`<td colspan="4" class="error">${row.error?.message ?? 'unreadable'}</td>`
                }
                <td class="num">${row.modelCount ?? '-'}</td>
              </tr>`,
            )}
          </tbody>
        </table>`)
    }
  </main>`;
}

function Models({ domain, query, store }) {
  const state = query.get('state') ?? '';
  const q = query.get('q') ?? '';
  const offset = Number(query.get('offset') ?? 0);
  const cursor = query.get('cursor') ?? '';
  const columns = (query.get('columns') ?? '').split(',').filter(Boolean);
  const [search, setSearch] = useState(q);
  const [picked, setPicked] = useState([]);
  useEffect(() => setSearch(q), [q]);
  const params = new URLSearchParams();
  if (state) params.set('state', state);
  if (q) params.set('q', q);
  if (offset) params.set('offset', String(offset));
  if (columns.length) params.set('columns', columns.join(','));
  if (cursor) params.set('cursor', cursor);
  const list = useApi(`domains/${enc(domain)}/models?${params}`);
  const info = useApi(`domains/${enc(domain)}`);
  // The count needs the domain's whole listing: asked after the first page is shown.
  const total = useApi(list.data && !list.data.q && list.data.total === null ? `domains/${enc(domain)}/count${state ? `?state=${enc(state)}` : ''}` : null);
  const go = (changes) => {
    const next = new URLSearchParams(params);
    for (const [key, value] of Object.entries(changes)) {
      if (value === '' || value === null || value === undefined || value === 0) next.delete(key);
      else next.set(key, String(value));
    }
    location.hash = `#/d/${enc(domain)}${next.toString() ? `?${next}` : ''}`;
  };
  const toggleColumn = (key) => go({ columns: (columns.includes(key) ? columns.filter((c) => c !== key) : [...columns, key]).join(','), offset: 0, cursor: '' });
  const togglePick = (id) => setPicked((now) => (now.includes(id) ? now.filter((x) => x !== id) : [...now.slice(-1), id]));
  const data = list.data;
  return html`<main>
    <nav class="crumbs"><a href="#/">domains</a> / <strong>${domain}</strong></nav>
    <h1>${domain}</h1>
    <form class="filters" onSubmit=${(event) => {
      event.preventDefault();
      go({ q: search.trim(), offset: 0, cursor: '' });
    }}>
      <label>state <select name="state" value=${state} onChange=${(event) => go({ state: event.currentTarget.value, offset: 0, cursor: '' })}>
        <option value="">any</option>
        ${(store?.states ?? []).map((s) => html`<option value=${s} key=${s}>${s}</option>`)}
      </select></label>
      <input type="search" name="q" placeholder="search ids and metadata" value=${search} onInput=${(event) => setSearch(event.currentTarget.value)} />
      <button type="submit">Search</button>
      ${q && html`<button type="button" onClick=${() => go({ q: '', offset: 0, cursor: '' })}>Clear</button>`}
      <a class=${picked.length === 2 ? 'button' : 'button disabled'} id="compare" href=${picked.length === 2 ? `#/d/${enc(domain)}/compare/${enc(picked[0])}/${enc(picked[1])}` : undefined}>Compare ${picked.length}/2</a>
    </form>
    <form class="columns" onSubmit=${(event) => {
      event.preventDefault();
      const key = event.currentTarget.elements.column.value.trim();
      if (key && !columns.includes(key)) toggleColumn(key);
      event.currentTarget.reset();
    }}>extra columns: ${[...new Set([...(info.data?.extraKeys ?? []), ...columns])].map((key) => html`<button type="button" key=${key} class=${columns.includes(key) ? 'chip on' : 'chip'} onClick=${() => toggleColumn(key)}>${key}</button>`)}
      <input name="column" class="small" placeholder="add a column: an extra key" aria-label="add an extra column" /></form>
    ${list.error && html`<${ErrorBox} message=${list.error} />`}
    ${!data && list.loading && html`<p class="loading">Loading…</p>`}
    ${
      data &&
      html`<p class="count" id="count">${(() => {
        const known = data.total ?? total.data?.total ?? null;
        return known !== null ? `${known} model${known === 1 ? '' : 's'}${state || q ? ' match' : ''}` : `${data.models.length} shown`;
      })()}${data.q ? ` (searched ${data.documentsRead} documents)` : ''}${list.loading ? ' …' : ''}</p>
      <table class="models">
        <thead><tr><th></th><th>model id</th><th>created</th><th>library</th><th class="num">size</th><th>states</th>${columns.map((c) => html`<th key=${c}>${c}</th>`)}</tr></thead>
        <tbody>
          ${data.models.map(
            (m) => html`<tr key=${m.modelId}>
              <td><input type="checkbox" aria-label=${`pick ${m.modelId}`} checked=${picked.includes(m.modelId)} onChange=${() => togglePick(m.modelId)} /></td>
              <td><a href=${`#/d/${enc(domain)}/m/${enc(m.modelId)}`}><code>${m.modelId}</code></a></td>
              <td>${time(m.createdAt)}</td><td>${m.library ?? '-'}</td><td class="num">${bytes(m.size)}</td><td><${States} states=${m.states} /></td>
              ${columns.map((c) => html`<${Cell} key=${c} value=${m.columns?.[c]} />`)}
            </tr>`,
          )}
        </tbody>
      </table>
      <p class="pager">
        <button type="button" disabled=${offset === 0} onClick=${() => go({ offset: Math.max(0, offset - data.limit), cursor: '' })}>← newer</button>
        <span>${data.models.length ? `${offset + 1}–${offset + data.models.length}` : ''}${(data.total ?? total.data?.total ?? null) !== null ? ` of ${data.total ?? total.data.total}` : ''}</span>
        <button type="button" id="older" disabled=${data.next === null && !data.cursor} onClick=${() => go(data.cursor ? { cursor: data.cursor, offset: offset + data.models.length } : { offset: data.next, cursor: '' })}>older →</button>
      </p>`
    }
  </main>`;
}

/** A value as a table when it is a list of records or a record, else as text. */
function Value({ value }) {
  if (Array.isArray(value) && value.length > 0 && value.every((item) => item && typeof item === 'object' && !Array.isArray(item))) {
    const keys = [...new Set(value.flatMap((item) => Object.keys(item)))];
    return html`<table class="inner"><thead><tr>${keys.map((k) => html`<th key=${k}>${k}</th>`)}</tr></thead>
      <tbody>${value.map((item, i) => html`<tr key=${i}>${keys.map((k) => html`<${Cell} key=${k} value=${item[k]} />`)}</tr>`)}</tbody></table>`;
  }
  if (value && typeof value === 'object' && !Array.isArray(value)) return html`<${Record} value=${value} />`;
  return html`<span class="value">${text(value)}</span>`;
}

function Record({ value, id }) {
  const entries = Object.entries(value ?? {});
  if (entries.length === 0) return html`<p class="muted">none</p>`;
  return html`<table class="record" id=${id}><tbody>${entries.map(([key, item]) => html`<tr key=${key}><th>${key}</th><td><${Value} value=${item} /></td></tr>`)}</tbody></table>`;
}

function Files({ domain, modelId, archive }) {
  const [scanned, setScanned] = useState(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const files = archive.files ?? scanned;
  return html`<section>
    <h2>Files</h2>
    ${
      files
        ? html`<table class="files" id="files"><thead><tr><th>path</th><th class="num">size</th><th>sha256</th></tr></thead>
          <tbody>${files.map((f) => html`<tr key=${f.path}><td><code>${f.path}</code>${f.modelstore ? html` <span class="muted">(written by modelstore)</span>` : ''}</td><td class="num">${bytes(f.size)}</td><td><code class="digest">${f.sha256}</code></td></tr>`)}</tbody></table>`
        : html`<p>The metadata records no file list (Python modelstore writes none).
          <button type="button" disabled=${busy} onClick=${() => {
            setBusy(true);
            api(`domains/${enc(domain)}/models/${enc(modelId)}/files`)
              .then(
                (r) => setScanned(r.files),
                (e) => setError(e.message),
              )
              .finally(() => setBusy(false));
          }}>${busy ? 'Reading the archive…' : 'Read the archive'}</button></p>`
    }
    ${error && html`<${ErrorBox} message=${error} />`}
  </section>`;
}

function Signature({ signature }) {
  if (!signature || signature.status === 'unavailable') return html`<p class="muted" id="signature">Signature: not shown (this version of the library cannot read signatures).</p>`;
  if (signature.status === 'unsigned') return html`<p id="signature">Signature: <strong>unsigned</strong></p>`;
  if (signature.status === 'malformed') return html`<p id="signature" class="error">Signature: unreadable (${signature.message})</p>`;
  return html`<div id="signature"><p>Signature: <strong>${signature.kind}</strong>, parsed, not verified here (<code>modelstore verify</code> checks it)</p>
    <${Record} value=${{ keyHint: signature.keyHint, certificateSubject: signature.certificateSubject, subject: signature.subjectName, files: `${signature.files?.length ?? 0} signed`, bundle: signature.key }} /></div>`;
}

function Model({ domain, modelId, store, reloadStore }) {
  const { data, error, reload } = useApi(`domains/${enc(domain)}/models/${enc(modelId)}`);
  const [newState, setNewState] = useState('');
  const [message, setMessage] = useState(null);
  const [downloading, setDownloading] = useState(false);
  const write = async (method, path, question) => {
    try {
      if (!window.confirm(typeof question === 'function' ? await question() : question)) return;
      await api(path, { method });
      setMessage(null);
      if (method === 'PUT') {
        setNewState('');
        reloadStore?.();
      }
      if (method === 'DELETE' && !path.includes('/states/')) location.hash = `#/d/${enc(domain)}`;
      else reload();
    } catch (e) {
      setMessage(e.message);
    }
  };
  if (error) return html`<main><${ErrorBox} message=${error} /></main>`;
  if (!data) return html`<main><p class="loading">Loading…</p></main>`;
  const m = data.metadata;
  const base = `domains/${enc(domain)}/models/${enc(modelId)}`;
  return html`<main>
    <nav class="crumbs"><a href="#/">domains</a> / <a href=${`#/d/${enc(domain)}`}>${domain}</a> / <strong>${modelId}</strong></nav>
    <h1><code>${modelId}</code></h1>
    ${message && html`<${ErrorBox} message=${message} />`}
    <section class="summary">
      <${Record} id="summary" value=${{
        created: time(data.createdAt),
        library: `${data.library ?? '-'}${data.type ? ` (${data.type})` : ''}`,
        'archive size': bytes(data.archive.size),
        'archive sha256': data.archive.sha256 ?? 'not recorded (written by Python modelstore)',
      }} />
      <p class="states-line">States: <${States} states=${data.states} />
        ${allowWrites && data.states.map((s) => html` <button type="button" key=${s} class="small" onClick=${() => write('DELETE', `${base}/states/${enc(s)}`, `Take ${modelId} out of state ${s}?`)}>unset ${s}</button>`)}
      </p>
      ${
        allowWrites &&
        html`<form class="writes" onSubmit=${(event) => {
          event.preventDefault();
          const name = newState.trim();
          // The state list as it is now (another page or the CLI may have created one): setting a state that does not exist creates it.
          if (name)
            write('PUT', `${base}/states/${enc(name)}`, async () => ((await api('store')).states.includes(name) ? `Put ${modelId} in state ${name}?` : `Put ${modelId} in state ${name}? State ${name} does not exist and will be created.`));
        }}>
        <input name="state" list="known-states" placeholder="state, e.g. production" value=${newState} onInput=${(event) => setNewState(event.currentTarget.value)} />
        <datalist id="known-states">${(store?.states ?? []).map((s) => html`<option value=${s} key=${s} />`)}</datalist>
        <button type="submit" id="set-state">Set state</button>
        <button type="button" class="danger" id="delete" onClick=${() => write('DELETE', base, `Delete model ${modelId} of ${domain}? (a soft delete, as Python modelstore does)`)}>Delete model</button>
      </form>`
      }
      <p><a class="button" id="download" href=${`/api/${base}/archive`} onClick=${(event) => {
        event.preventDefault();
        if (downloading) return;
        setDownloading(true);
        downloadArchive(`${base}/archive`)
          .then(
            () => setMessage(null),
            (e) => setMessage(`Download failed: ${e.message}`),
          )
          .finally(() => setDownloading(false));
      }}>${downloading ? 'Downloading…' : 'Download archive'}${data.archive.verified ? ' (sha256-verified)' : ' (no digest recorded)'}</a></p>
      <${Signature} signature=${data.signature} />
    </section>
    ${
      (data.adapter.summary.length > 0 || Object.keys(data.adapter.parameters ?? {}).length > 0) &&
      html`<section><h2>What the ${data.library} adapter recorded</h2>
      ${data.adapter.summary.map((line) => html`<p key=${line.label + line.value}><strong>${line.label}</strong>: ${line.value}</p>`)}
      <${Record} id="parameters" value=${data.adapter.parameters ?? {}} /></section>`
    }
    <${Files} domain=${domain} modelId=${modelId} archive=${data.archive} />
    <section><h2>Extra metadata</h2><${Record} id="extra" value=${m.extra ?? {}} /></section>
    ${m.model?.data && html`<section><h2>Data</h2><${Record} value=${m.model.data} /></section>`}
    <section><h2>Code</h2><${Record} id="code" value=${{ runtime: m.code?.runtime, user: m.code?.user, created: m.code?.created, git: m.code?.git, modelstore: m.modelstore }} />
      <h3>Dependencies</h3><${Record} value=${m.code?.dependencies ?? {}} /></section>
    <section><h2>Download or load it</h2>
      ${data.commands.map((c) => html`<div class="command" key=${c.label}><h3>${c.label}</h3><pre><code>${c.text}</code></pre></div>`)}
    </section>
    <details><summary>The metadata document</summary><pre id="document">${JSON.stringify(m, null, 2)}</pre></details>
  </main>`;
}

function Compare({ domain, a, b }) {
  const { data, error } = useApi(`domains/${enc(domain)}/compare?a=${enc(a)}&b=${enc(b)}`);
  const [showSame, setShowSame] = useState(false);
  if (error) return html`<main><${ErrorBox} message=${error} /></main>`;
  if (!data) return html`<main><p class="loading">Loading…</p></main>`;
  const rows = data.metadata.filter((row) => showSame || row.change !== 'same');
  const link = (id) => html`<a href=${`#/d/${enc(domain)}/m/${enc(id)}`}><code>${id}</code></a>`;
  const fileRow = (kind) => (f) =>
    html`<tr key=${f.path} class=${kind}><td>${kind}</td><td><code>${f.path}</code></td>
    <td class="num">${f.a ? bytes(f.a.size) : ''}</td><td><code class="digest">${f.a?.sha256.slice(0, 16) ?? ''}</code></td>
    <td class="num">${f.b ? bytes(f.b.size) : ''}</td><td><code class="digest">${f.b?.sha256.slice(0, 16) ?? ''}</code></td></tr>`;
  return html`<main>
    <nav class="crumbs"><a href="#/">domains</a> / <a href=${`#/d/${enc(domain)}`}>${domain}</a> / compare</nav>
    <h1>Compare</h1>
    <table class="sides"><thead><tr><th></th><th>A</th><th>B</th></tr></thead><tbody>
      <tr><th>model</th><td>${link(data.a.modelId)}</td><td>${link(data.b.modelId)}</td></tr>
      <tr><th>created</th><td>${time(data.a.createdAt)}</td><td>${time(data.b.createdAt)}</td></tr>
      <tr><th>library</th><td>${data.a.library}</td><td>${data.b.library}</td></tr>
      <tr><th>size</th><td>${bytes(data.a.size)}</td><td>${bytes(data.b.size)}</td></tr>
      <tr><th>states</th><td><${States} states=${data.a.states} /></td><td><${States} states=${data.b.states} /></td></tr>
    </tbody></table>
    <h2>Files</h2>
    ${
      data.files.known
        ? html`<p id="file-counts">${data.files.added.length} added, ${data.files.removed.length} removed, ${data.files.changed.length} changed, ${data.files.same.length} the same</p>
        <table class="files" id="file-diff"><thead><tr><th></th><th>path</th><th class="num">A size</th><th>A sha256</th><th class="num">B size</th><th>B sha256</th></tr></thead><tbody>
          ${data.files.added.map(fileRow('added'))}${data.files.removed.map(fileRow('removed'))}${data.files.changed.map(fileRow('changed'))}
        </tbody></table>`
        : html`<p class="muted">One of the two records no file digests (written by Python modelstore).</p>`
    }
    <h2>Metadata</h2>
    <label><input type="checkbox" checked=${showSame} onChange=${() => setShowSame(!showSame)} /> show equal values</label>
    <table class="diff" id="metadata-diff"><thead><tr><th>key</th><th>A</th><th>B</th></tr></thead><tbody>
      ${rows.map((row) => html`<tr key=${row.path} class=${row.change}><th>${row.path}</th><td>${row.change === 'added' ? '' : text(row.a)}</td><td>${row.change === 'removed' ? '' : text(row.b)}</td></tr>`)}
    </tbody></table>
  </main>`;
}

function App() {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  const store = useApi('store');
  useEffect(() => {
    const onHash = () => setRoute(parseRoute(location.hash));
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);
  const props = { ...route, store: store.data, reloadStore: store.reload };
  const page =
    route.page === 'models'
      ? html`<${Models} key=${route.domain} ...${props} />`
      : route.page === 'model'
        ? html`<${Model} key=${`${route.domain}/${route.modelId}`} ...${props} />`
        : route.page === 'compare'
          ? html`<${Compare} ...${props} />`
          : html`<${Domains} />`;
  return html`<${Header} store=${store.data} />${store.error ? html`<${ErrorBox} message=${store.error} />` : page}`;
}

const root = document.getElementById('app');
root.textContent = '';
render(html`<${App} />`, root);
