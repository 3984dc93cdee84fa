// #/signup: POST /store/api/account/create (XML, no credentials). The new key and token are shown
// once; the token signs this tab in.

import { setToken, store } from "../api.js";
import { explain } from "../errors.js";
import { field, h, messageBox, showMessage } from "../dom.js";

const FIELDS = [
  ["name", "Account name", "text", true, "organization"],
  ["first_name", "First name", "text", false, "given-name"],
  ["last_name", "Last name", "text", false, "family-name"],
  ["email", "Email", "email", true, "email"],
  ["url", "Website", "url", false, "url"],
];

/** <account><name/>…</account> with the values escaped by the XML serializer. */
function accountXML(values) {
  const doc = document.implementation.createDocument(null, "account", null);
  for (const [name] of FIELDS) {
    const el = doc.createElement(name);
    el.textContent = values[name] || "";
    doc.documentElement.append(el);
  }
  return new XMLSerializer().serializeToString(doc);
}

export function render(main, ctx) {
  const inputs = {};
  const fields = FIELDS.map(([name, label, type, required, autocomplete]) => {
    inputs[name] = h(`input#signup-${name.replace("_", "-")}`, { type, name, autocomplete, required });
    return field(required ? `${label} (required)` : label, inputs[name]);
  });
  const submit = h("button.button#signup-submit", { type: "submit" }, "Create account");
  const message = messageBox("signup-message");
  const form = h("form#signup-form", { novalidate: true }, fields, h("div.actions", {}, submit), message);
  const card = h("section.card.narrow-card", { "aria-labelledby": "signup-title" },
    h("h1#signup-title", {}, "Create an account"),
    form,
    h("p.small", {}, "Already have a token? ", h("a", { href: "#/signin" }, "Sign in"), "."));

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const values = Object.fromEntries(Object.entries(inputs).map(([k, input]) => [k, input.value.trim()]));
    if (!values.name || !values.email) {
      showMessage(message, "Enter an account name and an email.", "error");
      (values.name ? inputs.email : inputs.name).focus();
      return;
    }
    submit.disabled = true;
    showMessage(message, "Creating the account…", "info");
    try {
      const doc = await store("POST", "account/create", accountXML(values), { credentials: false });
      const key = doc.querySelector("account > api_key")?.textContent || "";
      const secret = doc.querySelector("account > api_token")?.textContent || "";
      const name = doc.querySelector("account > name")?.textContent || values.name;
      setToken(secret);
      showCreated(card, key, secret, () => ctx.signedIn(name));
    } catch (error) {
      submit.disabled = false;
      const text = error.status === 404 ? "Sign-up is not enabled on this server." : explain(error);
      showMessage(message, text, "error");
    }
  });

  main.append(card);
  inputs.name.focus();
}

function showCreated(card, key, secret, proceed) {
  const go = h("button.button#signup-continue", { type: "button", onclick: proceed }, "Continue to the dashboard");
  card.replaceChildren(
    h("h1#signup-title", {}, "Account created"),
    h("p.message.message-warn", { role: "alert" },
      "Keep the token somewhere safe now: it is shown only this once and it is the password of the account."),
    h("dl.details", {},
      h("dt", {}, "API key"), h("dd", {}, h("code.secret#signup-key", {}, key)),
      h("dt", {}, "API token"), h("dd", {}, h("code.secret#signup-token", {}, secret))),
    h("p.small.muted", {}, "The store API takes key:token (HTTP Basic); the JSON APIs take the token as X-API-KEY."),
    h("div.actions", {}, go));
  go.focus();
}
