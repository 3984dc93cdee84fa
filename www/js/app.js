// The dashboard's router: hash routes (#/signin, #/signup, #/files, #/fetches, #/jobs, #/store,
// #/usage), one view module each. A view's render(main, ctx) returns a cleanup function, called
// when the route changes (it stops polling). Without a token every route shows #/signin.

import { clearToken, store, token } from "./api.js";
import * as signin from "./views/signin.js";
import * as signup from "./views/signup.js";
import * as files from "./views/files.js";
import * as fetches from "./views/fetches.js";
import * as jobs from "./views/jobs.js";
import * as storeView from "./views/store.js";
import * as usage from "./views/usage.js";

const ROUTES = {
  signin: { view: signin, title: "Sign in", guest: true },
  signup: { view: signup, title: "Sign up", guest: true },
  files: { view: files, title: "Files" },
  fetches: { view: fetches, title: "Fetches" },
  jobs: { view: jobs, title: "Jobs" },
  store: { view: storeView, title: "Store" },
  usage: { view: usage, title: "Usage" },
};
const DEFAULT_ROUTE = "files";

let cleanup = null;

function routeName() {
  const match = location.hash.match(/^#\/([a-z]+)/);
  return match && ROUTES[match[1]] ? match[1] : null;
}

function go(name) {
  if (location.hash !== `#/${name}`) location.hash = `#/${name}`;
  else render();
}

/** The account's name in the header (from GET /store/api/account.xml). */
export function showAccount(name) {
  document.getElementById("account-name").textContent = name || "";
}

function chrome(signedIn, current) {
  document.getElementById("nav-app").hidden = !signedIn;
  document.getElementById("nav-guest").hidden = signedIn;
  document.getElementById("account").hidden = !signedIn;
  for (const link of document.querySelectorAll("nav a[data-route]")) {
    if (link.dataset.route === current) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  document.querySelector(".brand").setAttribute("href", signedIn ? `#/${DEFAULT_ROUTE}` : "#/signin");
}

function render() {
  let name = routeName();
  const signedIn = Boolean(token());
  if (!signedIn && (!name || !ROUTES[name].guest)) name = "signin";
  if (signedIn && (!name || name === "signin")) name = DEFAULT_ROUTE;
  if (location.hash !== `#/${name}`) {
    history.replaceState(null, "", `#/${name}`);
  }
  if (cleanup) {
    cleanup();
    cleanup = null;
  }
  const route = ROUTES[name];
  chrome(signedIn, name);
  document.title = `${route.title} · Fetchgate`;
  const main = document.getElementById("main");
  main.replaceChildren();
  const context = { go, signedIn: afterSignIn, signOut };
  cleanup = route.view.render(main, context) || null;
  if (signedIn && !document.getElementById("account-name").textContent) loadAccount();
}

function afterSignIn(accountName) {
  showAccount(accountName);
  go(DEFAULT_ROUTE);
}

function signOut() {
  clearToken();
  showAccount("");
  go("signin");
}

async function loadAccount() {
  if (!token()) return;
  try {
    const doc = await store("GET", "account.xml");
    showAccount(doc.querySelector("account > name")?.textContent || "");
  } catch (error) {
    if (error.status === 401) signOut();
  }
}

document.getElementById("signout").addEventListener("click", signOut);
window.addEventListener("hashchange", render);
// A 401 anywhere (token revoked) signs out.
window.addEventListener("fetchgate:unauthorized", () => {
  if (!ROUTES[routeName()]?.guest) signOut();
});
render();
loadAccount();
