// #/signin: the API token, checked with GET /store/api/account.xml before it is kept.

import { clearToken, setToken, store } from "../api.js";
import { explain } from "../errors.js";
import { h, messageBox, showMessage } from "../dom.js";

export function render(main, ctx) {
  const input = h("input#token", {
    type: "password", name: "token", autocomplete: "off", spellcheck: "false", required: true,
    "aria-describedby": "token-hint",
  });
  const submit = h("button.button#signin-submit", { type: "submit" }, "Sign in");
  const message = messageBox("signin-message");
  const form = h("form#signin-form", { novalidate: true },
    h("div.field", {},
      h("label", { for: "token" }, "API token"),
      input,
      h("span.hint#token-hint", {}, "The token of your account (the part after the colon in key:token).")),
    h("div.actions", {}, submit),
    message);

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const value = input.value.trim();
    if (!value) {
      showMessage(message, "Enter your API token.", "error");
      input.focus();
      return;
    }
    submit.disabled = true;
    showMessage(message, "Checking the token…", "info");
    setToken(value);
    try {
      const doc = await store("GET", "account.xml");
      input.value = "";
      ctx.signedIn(doc.querySelector("account > name")?.textContent || "");
    } catch (error) {
      clearToken();
      submit.disabled = false;
      showMessage(message, error.status === 401 ? "Wrong token: the server did not accept it." : explain(error), "error");
      input.select();
    }
  });

  main.append(h("section.card.narrow-card", { "aria-labelledby": "signin-title" },
    h("h1#signin-title", {}, "Sign in"),
    h("p.muted", {}, "Fetchgate keeps the token in this tab only and forgets it when you sign out or close the tab."),
    form,
    h("p.small", {}, "No account yet? ", h("a", { href: "#/signup" }, "Create one"), ".")));
  input.focus();
  return () => { input.value = ""; };
}
