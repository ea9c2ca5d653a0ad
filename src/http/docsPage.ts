// GET /docs: one static page that fetches /openapi.json and lists every operation with its
// scopes, parameters, request body and responses. No CDN and no framework; every value from the
// document goes into the page as text, never as HTML.
export const DOCS_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Calls API reference</title>
<style>
  body { font: 15px/1.5 system-ui, sans-serif; margin: 0 auto; max-width: 62rem; padding: 1rem 1.5rem 4rem; color: #1d2430; }
  h1 { margin-bottom: .2rem; } h2 { margin-top: 2.2rem; border-bottom: 1px solid #d8dde6; text-transform: capitalize; }
  .op { border: 1px solid #d8dde6; border-radius: 6px; margin: .8rem 0; padding: .6rem .9rem; }
  .method { display: inline-block; min-width: 4.2rem; font-weight: 700; font-family: ui-monospace, monospace; }
  .GET { color: #116329; } .POST { color: #0b4f9c; } .PATCH { color: #8a4b00; } .DELETE { color: #a40e26; }
  code, pre { font-family: ui-monospace, monospace; font-size: 13px; }
  pre { background: #f4f6f9; padding: .6rem; overflow: auto; max-height: 24rem; }
  table { border-collapse: collapse; margin: .3rem 0; } td, th { border: 1px solid #d8dde6; padding: .2rem .5rem; text-align: left; vertical-align: top; }
  .scopes { font-size: 13px; color: #4a5568; } .muted { color: #4a5568; }
</style>
</head>
<body>
<h1>Calls API</h1>
<p class="muted">Generated from <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1).</p>
<div id="intro"></div>
<div id="ops">Loading...</div>
<script>
(function () {
  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    (children || []).forEach(function (c) { e.appendChild(typeof c === 'string' ? document.createTextNode(c) : c); });
    return e;
  }
  function resolve(doc, s) {
    if (s && s.$ref) return doc.components.schemas[s.$ref.split('/').pop()];
    return s;
  }
  function schemaBlock(doc, s, label) {
    var d = el('details', {}, [el('summary', {}, [label])]);
    d.appendChild(el('pre', {}, [JSON.stringify(resolve(doc, s), null, 2)]));
    return d;
  }
  function render(doc) {
    var intro = document.getElementById('intro');
    intro.appendChild(el('p', {}, [doc.info.description]));
    var schemes = doc.components.securitySchemes;
    var t = el('table', {}, [el('tr', {}, [el('th', {}, ['auth scheme']), el('th', {}, ['where']), el('th', {}, ['meaning'])])]);
    Object.keys(schemes).forEach(function (k) {
      t.appendChild(el('tr', {}, [el('td', {}, [k]), el('td', {}, [schemes[k].in + ': ' + schemes[k].name]), el('td', {}, [schemes[k].description || ''])]));
    });
    intro.appendChild(t);
    var byTag = {};
    Object.keys(doc.paths).forEach(function (path) {
      Object.keys(doc.paths[path]).forEach(function (method) {
        var op = doc.paths[path][method];
        var tag = (op.tags && op.tags[0]) || 'other';
        (byTag[tag] = byTag[tag] || []).push({ path: path, method: method.toUpperCase(), op: op });
      });
    });
    var ops = document.getElementById('ops');
    ops.textContent = '';
    (doc.tags || []).map(function (t) { return t.name; }).concat(Object.keys(byTag)).forEach(function (tag, i, all) {
      if (!byTag[tag] || all.indexOf(tag) !== i) return;
      ops.appendChild(el('h2', { id: tag }, [tag]));
      byTag[tag].forEach(function (o) {
        var box = el('div', { class: 'op', id: o.method + ' ' + o.path }, [
          el('div', {}, [el('span', { class: 'method ' + o.method }, [o.method]), el('code', {}, [o.path])]),
          el('div', {}, [o.op.summary || '']),
          el('div', { class: 'scopes' }, [o.op['x-scopes'] ? 'API key scopes: ' + o.op['x-scopes'].join(', ') + (o.op.security.some(function (s) { return s.ApiKeyQuery; }) ? ' (X-API-Key header or ?api_key=)' : ' (X-API-Key header)') : 'No API key'])
        ]);
        if (o.op.parameters && o.op.parameters.length) {
          var pt = el('table', {}, [el('tr', {}, [el('th', {}, ['parameter']), el('th', {}, ['in']), el('th', {}, ['schema'])])]);
          o.op.parameters.forEach(function (p) {
            pt.appendChild(el('tr', {}, [el('td', {}, [p.name + (p.required ? ' *' : '')]), el('td', {}, [p.in]), el('td', {}, [el('code', {}, [JSON.stringify(p.schema)])])]));
          });
          box.appendChild(pt);
        }
        if (o.op.requestBody) {
          Object.keys(o.op.requestBody.content).forEach(function (type) {
            box.appendChild(schemaBlock(doc, o.op.requestBody.content[type].schema, 'request body (' + type + ')' + (o.op.requestBody.required ? '' : ', optional')));
          });
        }
        var rt = el('table', {}, [el('tr', {}, [el('th', {}, ['status']), el('th', {}, ['when']), el('th', {}, ['body'])])]);
        Object.keys(o.op.responses).forEach(function (status) {
          var r = o.op.responses[status];
          var type = r.content && Object.keys(r.content)[0];
          rt.appendChild(el('tr', {}, [el('td', {}, [status]), el('td', {}, [r.description]),
            el('td', {}, type ? [schemaBlock(doc, r.content[type].schema, type)] : [''])]));
        });
        box.appendChild(rt);
        ops.appendChild(box);
      });
    });
  }
  fetch('/openapi.json').then(function (r) { return r.json(); }).then(render, function (err) {
    document.getElementById('ops').textContent = 'Could not load /openapi.json: ' + err;
  });
})();
</script>
</body>
</html>
`;
