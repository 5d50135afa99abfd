// Unknown-field detection for Kubernetes objects. The JSON schemas shipped by kubernetes-models (like the
// API's OpenAPI) allow additional properties, so a misspelt field ("readinesProbe") validates and is only
// rejected, or silently dropped, by the API server. The package's type declarations list every field of
// every type, so this walks an object beside its declared interface and reports the fields that do not
// exist. Read-only: it never changes the object.
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";

const cache = new Map();

/** Parses the first `export interface` of a .d.ts file: field name -> type text, plus its imports. */
function loadInterface(file) {
  if (cache.has(file)) {
    return cache.get(file);
  }
  const text = readFileSync(file, "utf8").replace(/\/\*[\s\S]*?\*\//g, "").replace(/\/\/.*$/gm, "");
  const imports = new Map();
  for (const m of text.matchAll(/import\s*\{([^}]*)\}\s*from\s*"([^"]+)"/g)) {
    for (const name of m[1].split(",").map((s) => s.trim()).filter(Boolean)) {
      imports.set(name.split(/\s+as\s+/).pop(), m[2]);
    }
  }
  const start = text.search(/export interface \w+[^{]*\{/);
  let result = null;
  if (start >= 0) {
    const open = text.indexOf("{", start);
    let depth = 0;
    let end = open;
    for (; end < text.length; end++) {
      if (text[end] === "{") depth++;
      else if (text[end] === "}" && --depth === 0) break;
    }
    const body = text.slice(open + 1, end);
    const fields = new Map();
    let buf = "";
    depth = 0;
    for (const ch of body) {
      if (ch === "{" || ch === "<" || ch === "(") depth++;
      if (ch === "}" || ch === ">" || ch === ")") depth--;
      if (ch === ";" && depth === 0) {
        const m = buf.trim().match(/^"([^"]+)"\??:\s*([\s\S]*)$/);
        if (m) fields.set(m[1], m[2].trim());
        buf = "";
      } else {
        buf += ch;
      }
    }
    result = { file, fields, imports };
  }
  cache.set(file, result);
  return result;
}

/** Resolves an import specifier of a .d.ts file to the .d.ts file it names. */
function resolveImport(fromFile, specifier, nodeModules) {
  let base;
  if (specifier.startsWith(".")) {
    base = path.resolve(path.dirname(fromFile), specifier);
  } else {
    base = path.join(nodeModules, specifier);
  }
  for (const candidate of [base.replace(/\.js$/, ".d.ts"), `${base}.d.ts`, path.join(base, "index.d.ts")]) {
    if (existsSync(candidate)) return candidate;
  }
  return null;
}

function check(value, typeText, ctx, at, errors) {
  if (value === null || value === undefined) return;
  let t = typeText.trim();
  // Union with null or with primitives: walk the one interface alternative, if any.
  const alternatives = t.split("|").map((s) => s.trim());
  if (alternatives.length > 1) {
    const named = alternatives.filter((a) => /^I[A-Za-z0-9]+$/.test(a) || a.startsWith("Array<") || a.startsWith("{"));
    if (named.length !== 1) return;
    t = named[0];
  }
  let m = t.match(/^Array<([\s\S]+)>$/);
  if (m) {
    if (Array.isArray(value)) value.forEach((item, i) => check(item, m[1], ctx, `${at}[${i}]`, errors));
    return;
  }
  m = t.match(/^\{\s*\[key: string\]:\s*([\s\S]+?);?\s*\}$/);
  if (m) {
    if (typeof value === "object") for (const [k, v] of Object.entries(value)) check(v, m[1], ctx, `${at}.${k}`, errors);
    return;
  }
  if (/^I[A-Za-z0-9]+$/.test(t) && ctx.imports.has(t) && typeof value === "object" && !Array.isArray(value)) {
    const file = resolveImport(ctx.file, ctx.imports.get(t), ctx.nodeModules);
    if (!file) return;
    walk(value, file, ctx.nodeModules, at, errors);
  }
}

function walk(obj, file, nodeModules, at, errors) {
  const iface = loadInterface(file);
  if (!iface) return; // a type alias (Quantity, IntOrString, Time...): nothing to check inside
  const ctx = { file: iface.file, imports: iface.imports, nodeModules };
  for (const [key, value] of Object.entries(obj)) {
    if (!iface.fields.has(key)) {
      errors.push(`${at ? `${at}.` : ""}${key}: unknown field`);
      continue;
    }
    check(value, iface.fields.get(key), ctx, at ? `${at}.${key}` : key, errors);
  }
}

/**
 * Lists the unknown fields of a Kubernetes object, given the .d.ts of its kind's model
 * (for example node_modules/kubernetes-models/apps/v1/Deployment.d.ts).
 */
export function unknownFields(obj, modelDts, nodeModules) {
  const errors = [];
  walk(obj, modelDts, nodeModules, "", errors);
  return errors;
}
