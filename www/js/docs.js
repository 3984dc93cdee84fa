// The API documents page (/docs.html): loads one of www/openapi/*.json and renders it with the
// DOM (never innerHTML: every text of a document is set as text), grouped by tag: each
// operation's parameters, request body and responses with their schemas and examples.
// No framework, no CDN; CSP-clean (no inline script or style).

const DOCUMENTS = ["fetchgate", "fetch", "files", "jobs", "downloader"];
const METHODS = ["get", "post", "put", "patch", "delete", "head", "options", "trace"];
const MAX_DEPTH = 6;

/** An element with attributes and children (strings become text nodes). */
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    node.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return node;
}

/** Text with `code spans` as <code> elements. */
function richText(text) {
  const parts = String(text ?? "").split("`");
  return parts.map((part, i) => (i % 2 === 1 ? el("code", {}, part) : part));
}

function paragraph(text, className) {
  return text ? el("p", { class: className }, richText(text)) : null;
}

/** Follows a local `$ref` (`#/components/…`); other values come back as they are. */
function resolve(doc, node) {
  let current = node;
  const seen = new Set();
  while (current && typeof current.$ref === "string" && current.$ref.startsWith("#/") && !seen.has(current.$ref)) {
    seen.add(current.$ref);
    current = current.$ref.slice(2).split("/").reduce((at, key) => (at ? at[key.replace(/~1/g, "/").replace(/~0/g, "~")] : undefined), doc);
  }
  return current ?? {};
}

function refName(schema) {
  return typeof schema?.$ref === "string" ? schema.$ref.split("/").pop() : null;
}

/** A schema's type in a few words: `string (uuid)`, `array of Job`, `integer, or null`. */
function typeLabel(doc, schema) {
  const name = refName(schema);
  if (name) return name;
  const s = schema ?? {};
  if (s.oneOf || s.anyOf) {
    return (s.oneOf || s.anyOf).map((variant) => typeLabel(doc, variant)).join(" or ");
  }
  const types = Array.isArray(s.type) ? s.type : s.type ? [s.type] : [];
  const words = types.filter((t) => t !== "null").map((t) => {
    if (t === "array") return "array of " + typeLabel(doc, s.items);
    if (t === "string" && s.format) return `string (${s.format})`;
    return t;
  });
  let label = words.join(" or ") || (s.const !== undefined ? "constant" : "any");
  if (types.includes("null")) label += ", or null";
  return label;
}

/** Constraints worth showing: enum, const, pattern, bounds, default. */
function constraints(schema) {
  const s = schema ?? {};
  const out = [];
  if (Array.isArray(s.enum)) out.push("one of " + s.enum.map((v) => JSON.stringify(v)).join(", "));
  if (s.const !== undefined) out.push("always " + JSON.stringify(s.const));
  if (s.minimum !== undefined) out.push("≥ " + s.minimum);
  if (s.maximum !== undefined) out.push("≤ " + s.maximum);
  if (s.minLength !== undefined) out.push("at least " + s.minLength + " characters");
  if (s.maxLength !== undefined) out.push("at most " + s.maxLength + " characters");
  if (s.minItems !== undefined) out.push("at least " + s.minItems + " items");
  if (s.maxItems !== undefined) out.push("at most " + s.maxItems + " items");
  if (s.pattern) out.push("matches " + s.pattern);
  if (s.default !== undefined) out.push("default " + JSON.stringify(s.default));
  return out;
}

/** A schema as a nested list of its members (objects), items (arrays) or variants (oneOf). */
function schemaView(doc, schema, depth = 0, trail = []) {
  const name = refName(schema);
  if (name && trail.includes(name)) return el("p", { class: "docs-schema-note" }, `${name} (as above)`);
  const s = resolve(doc, schema);
  const nextTrail = name ? [...trail, name] : trail;
  const box = el("div", { class: "docs-schema" });
  if (name && depth === 0) box.append(el("p", { class: "docs-schema-name" }, el("code", {}, name)));
  if (s.description && depth === 0) box.append(paragraph(s.description, "docs-description"));
  if (depth >= MAX_DEPTH) return box;
  const variants = s.oneOf || s.anyOf;
  if (variants && !s.properties) {
    box.append(el("p", {}, "One of:"));
    box.append(el("ol", { class: "docs-variants" },
      variants.map((variant) => el("li", {}, el("span", { class: "docs-type" }, typeLabel(doc, variant)),
        hasDetail(doc, variant) ? schemaView(doc, variant, depth + 1, nextTrail) : null))));
    return box;
  }
  const types = Array.isArray(s.type) ? s.type : [s.type];
  if (types.includes("array") && s.items) {
    box.append(el("p", {}, "Array of ", el("span", { class: "docs-type" }, typeLabel(doc, s.items)), ":"));
    if (hasDetail(doc, s.items)) box.append(schemaView(doc, s.items, depth + 1, nextTrail));
    return box;
  }
  if (s.properties) {
    const required = new Set(s.required ?? []);
    const list = el("ul", { class: "docs-members" });
    for (const [member, sub] of Object.entries(s.properties)) {
      const resolved = resolve(doc, sub);
      const notes = constraints(resolved);
      list.append(el("li", {},
        el("code", { class: "docs-member" }, member), " ",
        el("span", { class: "docs-type" }, typeLabel(doc, sub)),
        required.has(member) ? el("span", { class: "docs-required" }, " required") : null,
        resolved.description ? el("span", { class: "docs-member-description" }, " — ", richText(resolved.description)) : null,
        notes.length ? el("span", { class: "docs-constraints" }, " (" + notes.join("; ") + ")") : null,
        hasDetail(doc, sub) ? schemaView(doc, sub, depth + 1, nextTrail) : null));
    }
    box.append(list);
    if (s.oneOf) box.append(el("p", { class: "docs-schema-note" }, "Exactly one of: " + s.oneOf.map((v) => (v.required ?? []).join(" + ")).join(", ") + "."));
    if (s.additionalProperties === false && depth === 0) box.append(el("p", { class: "docs-schema-note" }, "No other members."));
    return box;
  }
  const notes = constraints(s);
  box.append(el("p", {}, el("span", { class: "docs-type" }, typeLabel(doc, schema)), notes.length ? " (" + notes.join("; ") + ")" : ""));
  return box;
}

/** Whether a schema has members, items or variants to list below its type. */
function hasDetail(doc, schema) {
  const s = resolve(doc, schema);
  if (s.properties || s.oneOf || s.anyOf) return true;
  const types = Array.isArray(s.type) ? s.type : [s.type];
  return types.includes("array") && s.items ? hasDetail(doc, s.items) : false;
}

function exampleView(value, label = "Example") {
  return el("details", { class: "docs-example" }, el("summary", {}, label),
    el("pre", {}, el("code", {}, JSON.stringify(value, null, 2))));
}

function contentView(doc, content) {
  const out = [];
  for (const [media, body] of Object.entries(content ?? {})) {
    out.push(el("p", { class: "docs-media" }, el("code", {}, media)));
    if (body.schema) out.push(schemaView(doc, body.schema));
    if (body.example !== undefined) out.push(exampleView(body.example));
    for (const [key, example] of Object.entries(body.examples ?? {})) out.push(exampleView(example.value, `Example: ${key}`));
  }
  return out;
}

function parametersView(doc, parameters) {
  if (!parameters.length) return null;
  const rows = parameters.map((p) => {
    const param = resolve(doc, p);
    const notes = constraints(resolve(doc, param.schema));
    return el("tr", {},
      el("th", { scope: "row" }, el("code", {}, param.name)),
      el("td", {}, param.in),
      el("td", {}, typeLabel(doc, param.schema)),
      el("td", {}, param.required ? "yes" : "no"),
      el("td", {}, richText(param.description ?? ""), notes.length ? " (" + notes.join("; ") + ")" : ""));
  });
  return el("div", { class: "docs-table-wrap" }, el("table", { class: "docs-table" },
    el("caption", {}, "Parameters"),
    el("thead", {}, el("tr", {}, ["Name", "In", "Type", "Required", "Description"].map((h) => el("th", { scope: "col" }, h)))),
    el("tbody", {}, rows)));
}

function responsesView(doc, responses) {
  const list = el("dl", { class: "docs-responses" });
  for (const [status, ref] of Object.entries(responses ?? {})) {
    const response = resolve(doc, ref);
    const headers = Object.entries(response.headers ?? {});
    list.append(el("dt", {}, el("span", { class: `docs-status docs-status-${status[0]}xx` }, status), " ", richText(response.description ?? "")));
    list.append(el("dd", {},
      headers.length ? el("p", {}, "Headers: ", headers.map(([h, v], i) => [i ? ", " : "", el("code", {}, h), v.description ? " — " : "", richText(v.description ?? "")])) : null,
      contentView(doc, response.content)));
  }
  return list;
}

function operationView(doc, path, method, op, shared) {
  const id = "op-" + (op.operationId ?? `${method}-${path}`).replace(/[^A-Za-z0-9_-]/g, "-");
  const parameters = [...shared, ...(op.parameters ?? [])];
  return el("section", { class: "docs-operation", id, "aria-labelledby": id + "-title" },
    el("h4", { id: id + "-title" }, el("span", { class: `docs-method docs-method-${method}` }, method.toUpperCase()), " ",
      el("code", { class: "docs-path" }, path)),
    paragraph(op.summary, "docs-summary"),
    paragraph(op.description, "docs-description"),
    parametersView(doc, parameters),
    op.requestBody ? [el("h5", {}, "Request body"), contentView(doc, resolve(doc, op.requestBody).content)] : null,
    el("h5", {}, "Responses"),
    responsesView(doc, op.responses));
}

function securityView(doc) {
  const schemes = Object.values(doc.components?.securitySchemes ?? {});
  if (!schemes.length) return null;
  return [el("h3", {}, "Authentication"),
    el("ul", {}, schemes.map((s) => el("li", {},
      s.type === "apiKey" ? [el("code", {}, s.name), ` (${s.in === "header" ? "header" : "query parameter"})`] : el("code", {}, `HTTP ${s.scheme}`),
      s.description ? [" — ", richText(s.description)] : null)))];
}

/** The whole document: title, description, authentication, contents, operations by tag. */
function render(doc) {
  const groups = new Map((doc.tags ?? []).map((t) => [t.name, { tag: t, ops: [] }]));
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    for (const method of METHODS) {
      if (!item[method]) continue;
      const tag = item[method].tags?.[0] ?? "Other";
      if (!groups.has(tag)) groups.set(tag, { tag: { name: tag }, ops: [] });
      groups.get(tag).ops.push({ path, method, op: item[method], shared: item.parameters ?? [] });
    }
  }
  const contents = el("nav", { "aria-label": "Operations", class: "docs-contents" },
    el("ul", {}, [...groups.values()].filter((g) => g.ops.length).map((g) => el("li", {}, g.tag.name,
      el("ul", {}, g.ops.map(({ path, method, op }) => el("li", {}, el("a", { href: "#op-" + (op.operationId ?? `${method}-${path}`).replace(/[^A-Za-z0-9_-]/g, "-") },
        method.toUpperCase() + " " + path))))))));
  const sections = [...groups.values()].filter((g) => g.ops.length).map((g) =>
    el("section", { class: "docs-tag" }, el("h3", {}, g.tag.name), paragraph(g.tag.description, "docs-description"),
      g.ops.map(({ path, method, op, shared }) => operationView(doc, path, method, op, shared))));
  const count = [...groups.values()].reduce((n, g) => n + g.ops.length, 0);
  return {
    count,
    node: el("article", { class: "docs-document" },
      el("h2", {}, doc.info?.title ?? "API", " ", el("span", { class: "docs-version" }, "version " + (doc.info?.version ?? "?"))),
      paragraph(doc.info?.description, "docs-description"),
      securityView(doc),
      el("h3", {}, "Operations"), contents,
      sections),
  };
}

async function show(name) {
  const status = document.getElementById("doc-status");
  const target = document.getElementById("doc");
  status.textContent = `Loading ${name}.json…`;
  try {
    const reply = await fetch(`/openapi/${name}.json`, { headers: { Accept: "application/json" } });
    if (!reply.ok) throw new Error(`the server answered ${reply.status}`);
    const { node, count } = render(await reply.json());
    target.replaceChildren(node);
    status.textContent = `Showing ${name}.json: ${count} operations.`;
  } catch (error) {
    target.replaceChildren();
    status.textContent = `Could not load ${name}.json: ${error.message}.`;
  }
}

function chosen() {
  const wanted = new URLSearchParams(location.search).get("doc");
  return DOCUMENTS.includes(wanted) ? wanted : DOCUMENTS[0];
}

const select = document.getElementById("doc-select");
select.value = chosen();
select.addEventListener("change", () => {
  const url = new URL(location.href);
  url.searchParams.set("doc", select.value);
  url.hash = "";
  history.replaceState(null, "", url);
  show(select.value);
});
document.getElementById("doc-form").addEventListener("submit", (event) => event.preventDefault());
show(select.value);
