// Validates the integration tests' traffic against docs/openapi.yaml with Ajv (JSON Schema
// 2020-12, the dialect of OpenAPI 3.1): every request/answer pair that
// tests/support/https_client.h wrote to TRAFFIC_DIR/traffic-*.jsonl (BRUG_TRAFFIC_DIR).
//
//   node validate-traffic.mjs DOC TRAFFIC_DIR
//
// A pair fails when its route or method is not in the document (unless the answer is the
// documented 404/405/403 problem for it), when its status or content type is not documented
// for the operation, when the answer's body does not match the schema, or, for an answer the
// server accepted (2xx), when the request used a query parameter or a body member the
// document does not have. Bad requests answered 4xx are expected (the tests send them on
// purpose); their answers must still be documented problems.
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

const [docPath, trafficDir] = process.argv.slice(2);
if (!docPath || !trafficDir) {
  console.error('usage: node validate-traffic.mjs DOC TRAFFIC_DIR');
  process.exit(2);
}
const doc = YAML.parse(fs.readFileSync(docPath, 'utf8'));
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema(doc, 'openapi');

const pointer = (parts) =>
  'openapi#/' + parts.map((p) => String(p).replaceAll('~', '~0').replaceAll('/', '~1')).join('/');
const validators = new Map();
function validator(parts) {
  const ref = pointer(parts);
  if (!validators.has(ref)) validators.set(ref, ajv.compile({ $ref: ref }));
  return validators.get(ref);
}
function deref(obj) {
  while (obj && obj.$ref) {
    obj = obj.$ref
      .replace(/^#\//, '')
      .split('/')
      .map((p) => p.replaceAll('~1', '/').replaceAll('~0', '~'))
      .reduce((o, k) => o[k], doc);
  }
  return obj;
}

// Path templates to regular expressions; x-brug-path-rest names a parameter that takes the
// rest of the path (more than one segment).
const routes = Object.entries(doc.paths).map(([template, item]) => {
  const rest = Object.values(item).find((op) => op && op['x-brug-path-rest'])?.['x-brug-path-rest'];
  const source = template
    .split('/')
    .map((seg) => {
      const m = seg.match(/^\{(.+)\}$/);
      if (!m) return seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      return m[1] === rest ? '(.+)' : '([^/]+)';
    })
    .join('/');
  return { template, item, re: new RegExp('^' + source + '$') };
});

const problem = validator(['components', 'schemas', 'Problem']);
const errors = [];
const seen = new Map();
let pairs = 0;

function fail(t, what) {
  errors.push(`${t.method} ${t.uri} -> ${t.status}: ${what}`);
}
function baseType(ct) {
  return (ct || '').split(';')[0].trim().toLowerCase();
}
function checkProblem(t, expected) {
  if (!expected.includes(t.status)) return fail(t, `not in the document (answer ${t.status})`);
  if (baseType(t.content_type) !== 'application/problem+json') return fail(t, 'not a problem');
  const body = JSON.parse(t.body);
  if (!problem(body)) fail(t, 'problem: ' + ajv.errorsText(problem.errors));
}
function coerce(schema, value) {
  schema = deref(schema) || {};
  if ((schema.type === 'integer' || schema.type === 'number') && /^-?[0-9]+$/.test(value)) {
    return Number(value);
  }
  return value;
}

function check(t) {
  const url = new URL(t.uri, 'https://gateway.invalid');
  const route = routes.find((r) => r.re.test(url.pathname));
  // The chain checks the certificate, the body size and the query before the route.
  if (!route) return checkProblem(t, [400, 403, 404, 413]);
  const method = t.method.toLowerCase();
  const op = route.item[method];
  if (!op) return checkProblem(t, [400, 403, 404, 405, 413]);
  const key = `${t.method} ${route.template}`;
  seen.set(key, (seen.get(key) || 0) + 1);
  const opPath = ['paths', route.template, method];

  // The answer.
  const responses = op.responses || {};
  const status = String(t.status);
  if (!(status in responses)) return fail(t, `status ${status} not documented for ${key}`);
  const response = deref(responses[status]);
  const type = baseType(t.content_type);
  const content = response.content || {};
  if (!(type in content)) {
    if (t.body_size === 0 && Object.keys(content).length === 0) return;
    return fail(t, `content type ${type} not documented for ${key} ${status}`);
  }
  // Every JSON answer (application/json, problem+json, fhir+json) is checked against its schema.
  if (type === 'application/json' || type.endsWith('+json')) {
    let body;
    try {
      body = JSON.parse(t.body);
    } catch {
      return fail(t, 'the answer is not JSON');
    }
    const parts = responses[status].$ref
      ? responses[status].$ref.replace(/^#\//, '').split('/').map((p) => p.replaceAll('~1', '/'))
      : [...opPath, 'responses', status];
    const v = validator([...parts, 'content', type, 'schema']);
    if (!v(body)) fail(t, `answer: ${ajv.errorsText(v.errors)}`);
  } else if (type.startsWith('text/')) {
    const schema = deref(content[type].schema);
    if (schema) {
      const parts = [...opPath, 'responses', status, 'content', type, 'schema'];
      const v = validator(parts);
      if (!v(t.body)) fail(t, `answer: ${ajv.errorsText(v.errors)}`);
    }
  }

  // The request, when the server accepted it: everything it carried must be documented.
  if (t.status < 200 || t.status > 299) return;
  const params = (op.parameters || []).map(deref);
  for (const [name, value] of op['x-brug-ignores-query'] ? [] : url.searchParams) {
    const p = params.find((x) => x.in === 'query' && x.name === name);
    if (!p) {
      fail(t, `query parameter ${name} not documented for ${key}`);
      continue;
    }
    const v = validator([...opPath, 'parameters', params.indexOf(p), 'schema']);
    if (!v(coerce(p.schema, value))) fail(t, `query ${name}: ${ajv.errorsText(v.errors)}`);
  }
  for (const p of params.filter((x) => x.in === 'query' && x.required)) {
    if (!url.searchParams.has(p.name)) fail(t, `required query parameter ${p.name} missing`);
  }
  const body = t.request_body || '';
  if (!op.requestBody) {
    if (body !== '') fail(t, `${key} takes no body`);
    return;
  }
  if (body === '') {
    if (op.requestBody.required) fail(t, `${key} needs a body`);
    return;
  }
  const v = validator([...opPath, 'requestBody', 'content', 'application/json', 'schema']);
  if (!v(JSON.parse(body))) fail(t, `request: ${ajv.errorsText(v.errors)}`);
}

const files = fs.existsSync(trafficDir)
  ? fs.readdirSync(trafficDir).filter((f) => /^traffic-.*\.jsonl$/.test(f))
  : [];
for (const f of files) {
  for (const line of fs.readFileSync(path.join(trafficDir, f), 'utf8').split('\n')) {
    if (!line) continue;
    pairs++;
    try {
      check(JSON.parse(line));
    } catch (e) {
      errors.push(`${f}: ${e.message}`);
    }
  }
}
if (pairs === 0) {
  console.error(`no traffic in ${trafficDir}: run the integration tests with BRUG_TRAFFIC_DIR set`);
  process.exit(1);
}
const operations = Object.entries(doc.paths).flatMap(([p, item]) =>
  Object.keys(item).filter((m) => ['get', 'post', 'put', 'delete', 'patch'].includes(m))
    .map((m) => `${m.toUpperCase()} ${p}`));
const unused = operations.filter((o) => !seen.has(o));
console.log(`openapi traffic: ${pairs} pairs, ${seen.size} of ${operations.length} operations exercised`);
if (unused.length) console.log(`not exercised by the tests: ${unused.join(', ')}`);
const unique = [...new Set(errors)];
for (const e of unique.slice(0, 50)) console.log('FAIL ' + e);
if (unique.length > 50) console.log(`... and ${unique.length - 50} more`);
console.log(`${pairs - errors.length} passed, ${errors.length} failed`);
process.exit(errors.length ? 1 : 0);
